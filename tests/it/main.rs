mod ics;
