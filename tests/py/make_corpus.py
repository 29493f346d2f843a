#!/usr/bin/env python3
"""Writes the iCalendar corpus under tests/data/ics/ in the shapes real producers emit.

Each file is written out literally below (the text is what the producer emits, modelled on its
documented export format); this script only adds line endings, folding where the producer folds,
and a BOM where asked. Run it after changing a file here; the outputs are committed.
"""
import os
import sys

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "ics")

BERLIN_TZ = """BEGIN:VTIMEZONE
TZID:Europe/Berlin
X-LIC-LOCATION:Europe/Berlin
BEGIN:DAYLIGHT
TZOFFSETFROM:+0100
TZOFFSETTO:+0200
TZNAME:CEST
DTSTART:19700329T020000
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU
END:DAYLIGHT
BEGIN:STANDARD
TZOFFSETFROM:+0200
TZOFFSETTO:+0100
TZNAME:CET
DTSTART:19701025T030000
RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU
END:STANDARD
END:VTIMEZONE"""

NY_TZ = """BEGIN:VTIMEZONE
TZID:America/New_York
X-LIC-LOCATION:America/New_York
BEGIN:DAYLIGHT
TZOFFSETFROM:-0500
TZOFFSETTO:-0400
TZNAME:EDT
DTSTART:19700308T020000
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=2SU
END:DAYLIGHT
BEGIN:STANDARD
TZOFFSETFROM:-0400
TZOFFSETTO:-0500
TZNAME:EST
DTSTART:19701101T020000
RRULE:FREQ=YEARLY;BYMONTH=11;BYDAY=1SU
END:STANDARD
END:VTIMEZONE"""


def win_tz(tzid, std_off, dst_off, std_rule, dst_rule):
    """Outlook's VTIMEZONE: DTSTART in 1601, offsets, yearly rules."""
    if dst_rule is None:
        return f"""BEGIN:VTIMEZONE
TZID:{tzid}
BEGIN:STANDARD
DTSTART:16010101T000000
TZOFFSETFROM:{std_off}
TZOFFSETTO:{std_off}
END:STANDARD
END:VTIMEZONE"""
    return f"""BEGIN:VTIMEZONE
TZID:{tzid}
BEGIN:STANDARD
DTSTART:16010101T{std_rule[0]}
RRULE:FREQ=YEARLY;BYDAY={std_rule[1]};BYMONTH={std_rule[2]}
TZOFFSETFROM:{dst_off}
TZOFFSETTO:{std_off}
END:STANDARD
BEGIN:DAYLIGHT
DTSTART:16010101T{dst_rule[0]}
RRULE:FREQ=YEARLY;BYDAY={dst_rule[1]};BYMONTH={dst_rule[2]}
TZOFFSETFROM:{std_off}
TZOFFSETTO:{dst_off}
END:DAYLIGHT
END:VTIMEZONE"""


W_EUROPE = win_tz("W. Europe Standard Time", "+0100", "+0200",
                  ("030000", "-1SU", "10"), ("020000", "-1SU", "3"))
PACIFIC = win_tz("Pacific Standard Time", "-0800", "-0700",
                 ("020000", "1SU", "11"), ("020000", "2SU", "3"))
EASTERN = win_tz("Eastern Standard Time", "-0500", "-0400",
                 ("020000", "1SU", "11"), ("020000", "2SU", "3"))
GMT_STD = win_tz("GMT Standard Time", "+0000", "+0100",
                 ("020000", "-1SU", "10"), ("010000", "-1SU", "3"))
INDIA = win_tz("India Standard Time", "+0530", None, None, None)
CUSTOM_NY = win_tz("Customized Time Zone", "-0500", "-0400",
                   ("020000", "1SU", "11"), ("020000", "2SU", "3"))


def google(body, tzs=(BERLIN_TZ,), xwr="Europe/Berlin", name="Work"):
    head = ["BEGIN:VCALENDAR", "PRODID:-//Google Inc//Google Calendar 70.9054//EN",
            "VERSION:2.0", "CALSCALE:GREGORIAN", "METHOD:PUBLISH",
            f"X-WR-CALNAME:{name}"]
    if xwr:
        head.append(f"X-WR-TIMEZONE:{xwr}")
    return "\n".join(head + list(tzs) + [body.strip(), "END:VCALENDAR"])


def outlook(body, tzs, method="REQUEST"):
    head = ["BEGIN:VCALENDAR", f"METHOD:{method}",
            "PRODID:Microsoft Exchange Server 2010", "VERSION:2.0"]
    return "\n".join(head + list(tzs) + [body.strip(), "END:VCALENDAR"])


def plain(prodid, body, tzs=()):
    head = ["BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:{prodid}", "CALSCALE:GREGORIAN"]
    return "\n".join(head + list(tzs) + [body.strip(), "END:VCALENDAR"])


APPLE = "-//Apple Inc.//macOS 15.1//EN"
TB = "-//Mozilla.org/NONSGML Mozilla Calendar V1.1//EN"
NC = "-//Sabre//Sabre VObject 4.5.4//EN"
FM = "-//Fastmail/2020.5/EN"
RAD = "-//Radicale//NONSGML Radicale Server//EN"

G_ATT = ("ATTENDEE;CUTYPE=INDIVIDUAL;ROLE=REQ-PARTICIPANT;PARTSTAT=ACCEPTED;CN=Dana Direct;"
         "X-NUM-GUESTS=0:mailto:dana@example.com")
G_ORG = "ORGANIZER;CN=Mia Manager:mailto:mia@example.com"
G_ATT_MGR = ("ATTENDEE;CUTYPE=INDIVIDUAL;ROLE=REQ-PARTICIPANT;PARTSTAT=ACCEPTED;CN=Mia Manager;"
             "X-NUM-GUESTS=0:mailto:mia@example.com")

FILES = {}

FILES["google_weekly_tzid.ics"] = google(f"""
BEGIN:VEVENT
DTSTART;TZID=Europe/Berlin:20260106T100000
DTEND;TZID=Europe/Berlin:20260106T103000
RRULE:FREQ=WEEKLY;BYDAY=TU
DTSTAMP:20260101T120000Z
{G_ORG}
UID:g-weekly-1@google.com
{G_ATT}
{G_ATT_MGR}
X-GOOGLE-CONFERENCE:https://meet.google.com/abc-defg-hij
CREATED:20251201T090000Z
DESCRIPTION:Our weekly 1:1.\\n\\n-::~:~::~:~:~:~:~:~:~:~:~:~:~:~:~:~:~:~:~:~:~:~:~:~:~:~:~:~:~:~:~:~:~::~:~::-\\nJoin with Google Meet: https://meet.google.com/abc-defg-hij
LAST-MODIFIED:20251201T090000Z
LOCATION:
SEQUENCE:0
STATUS:CONFIRMED
SUMMARY:Mia / Dana 1:1
TRANSP:OPAQUE
BEGIN:VALARM
ACTION:DISPLAY
DESCRIPTION:This is an event reminder
TRIGGER:-P0DT0H10M0S
END:VALARM
END:VEVENT
""")

FILES["google_override_exported.ics"] = google(f"""
BEGIN:VEVENT
DTSTART;TZID=Europe/Berlin:20260105T150000
DTEND;TZID=Europe/Berlin:20260105T153000
RRULE:FREQ=WEEKLY;BYDAY=MO
DTSTAMP:20260101T120000Z
{G_ORG}
UID:g-override-1@google.com
{G_ATT}
CREATED:20251201T090000Z
LAST-MODIFIED:20251201T090000Z
SEQUENCE:0
STATUS:CONFIRMED
SUMMARY:1:1 Mia <> Dana
TRANSP:OPAQUE
END:VEVENT
BEGIN:VEVENT
DTSTART;TZID=Europe/Berlin:20260203T160000
DTEND;TZID=Europe/Berlin:20260203T163000
DTSTAMP:20260101T120000Z
{G_ORG}
UID:g-override-1@google.com
RECURRENCE-ID;TZID=Europe/Berlin:20260202T150000
{G_ATT}
CREATED:20251201T090000Z
DESCRIPTION:Moved to Tuesday this week.
LAST-MODIFIED:20260120T090000Z
SEQUENCE:1
STATUS:CONFIRMED
SUMMARY:1:1 Mia <> Dana
TRANSP:OPAQUE
END:VEVENT
""")

FILES["google_utc_xwr.ics"] = google(f"""
BEGIN:VEVENT
DTSTART:20260105T140000Z
DTEND:20260105T143000Z
RRULE:FREQ=WEEKLY;UNTIL=20270301T000000Z;BYDAY=MO
DTSTAMP:20260101T120000Z
{G_ORG}
UID:g-utc-xwr@google.com
{G_ATT}
SEQUENCE:0
STATUS:CONFIRMED
SUMMARY:Weekly sync (UTC written)
TRANSP:OPAQUE
END:VEVENT
""", tzs=(), xwr="America/New_York", name="NY team")

FILES["google_cancelled_instance.ics"] = google(f"""
BEGIN:VEVENT
DTSTART;TZID=Europe/Berlin:20260108T090000
DTEND;TZID=Europe/Berlin:20260108T093000
RRULE:FREQ=WEEKLY;BYDAY=TH
DTSTAMP:20260101T120000Z
{G_ORG}
UID:g-cancel@google.com
{G_ATT}
SEQUENCE:0
STATUS:CONFIRMED
SUMMARY:Thursday 1:1
END:VEVENT
BEGIN:VEVENT
DTSTART;TZID=Europe/Berlin:20260305T090000
DTEND;TZID=Europe/Berlin:20260305T093000
DTSTAMP:20260101T120000Z
{G_ORG}
UID:g-cancel@google.com
RECURRENCE-ID;TZID=Europe/Berlin:20260305T090000
{G_ATT}
SEQUENCE:1
STATUS:CANCELLED
SUMMARY:Thursday 1:1
END:VEVENT
""")

FILES["google_exdate_list.ics"] = google(f"""
BEGIN:VEVENT
DTSTART;TZID=Europe/Berlin:20260107T110000
DTEND;TZID=Europe/Berlin:20260107T113000
RRULE:FREQ=WEEKLY;BYDAY=WE
EXDATE;TZID=Europe/Berlin:20260114T110000,20260128T110000
EXDATE;TZID=Europe/Berlin:20260401T110000
DTSTAMP:20260101T120000Z
{G_ORG}
UID:g-exdate@google.com
{G_ATT}
SEQUENCE:2
SUMMARY:Wednesday check-in
END:VEVENT
""")

FILES["google_allday_yearly.ics"] = google("""
BEGIN:VEVENT
DTSTART;VALUE=DATE:20260314
DTEND;VALUE=DATE:20260315
RRULE:FREQ=YEARLY
DTSTAMP:20260101T120000Z
UID:g-birthday@google.com
SUMMARY:Dana's birthday
TRANSP:TRANSPARENT
END:VEVENT
""")

FILES["google_biweekly_count.ics"] = google(f"""
BEGIN:VEVENT
DTSTART;TZID=Europe/Berlin:20260213T083000
DTEND;TZID=Europe/Berlin:20260213T090000
RRULE:FREQ=WEEKLY;WKST=MO;COUNT=10;INTERVAL=2;BYDAY=FR
DTSTAMP:20260101T120000Z
{G_ORG}
UID:g-biweekly@google.com
{G_ATT}
SUMMARY:Biweekly 1:1
END:VEVENT
""")

FILES["google_rdate.ics"] = google(f"""
BEGIN:VEVENT
DTSTART;TZID=Europe/Berlin:20260112T140000
DTEND;TZID=Europe/Berlin:20260112T143000
RRULE:FREQ=MONTHLY;BYMONTHDAY=12;COUNT=6
RDATE;TZID=Europe/Berlin:20260220T140000
DTSTAMP:20260101T120000Z
{G_ORG}
UID:g-rdate@google.com
SUMMARY:Monthly review
END:VEVENT
""")

FILES["google_monthly_bysetpos.ics"] = google(f"""
BEGIN:VEVENT
DTSTART;TZID=Europe/Berlin:20260130T160000
DTEND;TZID=Europe/Berlin:20260130T170000
RRULE:FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1
DTSTAMP:20260101T120000Z
{G_ORG}
UID:g-setpos@google.com
SUMMARY:Last working day retro
END:VEVENT
""")

FILES["google_escaped_text.ics"] = google(f"""
BEGIN:VEVENT
DTSTART;TZID=Europe/Berlin:20260109T130000
DTEND;TZID=Europe/Berlin:20260109T133000
RRULE:FREQ=WEEKLY;BYDAY=FR
DTSTAMP:20260101T120000Z
{G_ORG}
UID:g-escaped@google.com
{G_ATT}
DESCRIPTION:Agenda\\, notes\\; and a backslash \\\\ here.\\nSecond line with <b>html</b> & ümlauts — “quotes”.
LOCATION:Room 4\\, 2nd floor
SUMMARY:Mia / Dana: 1:1\\, weekly
END:VEVENT
""")

FILES["outlook_windows_tz.ics"] = outlook("""
BEGIN:VEVENT
ORGANIZER;CN=Mia Manager:mailto:mia@example.com
ATTENDEE;ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=TRUE;CN=Dana Direct:mailto:dana@example.com
DESCRIPTION;LANGUAGE=en-US:Weekly 1:1\\n
RRULE:FREQ=WEEKLY;BYDAY=WE;INTERVAL=1
UID:040000008200E00074C5B7101A82E00800000000D0B5F5A1C1ABDA01000000000000000010000000
SUMMARY;LANGUAGE=en-US:Mia / Dana
DTSTART;TZID=W. Europe Standard Time:20260107T093000
DTEND;TZID=W. Europe Standard Time:20260107T100000
CLASS:PUBLIC
PRIORITY:5
DTSTAMP:20260101T080000Z
TRANSP:OPAQUE
STATUS:CONFIRMED
SEQUENCE:0
LOCATION;LANGUAGE=en-US:Microsoft Teams Meeting
X-MICROSOFT-CDO-APPT-SEQUENCE:0
X-MICROSOFT-CDO-OWNERAPPTID:2121654712
X-MICROSOFT-CDO-BUSYSTATUS:TENTATIVE
X-MICROSOFT-CDO-INTENDEDSTATUS:BUSY
X-MICROSOFT-CDO-ALLDAYEVENT:FALSE
X-MICROSOFT-CDO-IMPORTANCE:1
X-MICROSOFT-CDO-INSTTYPE:1
X-MICROSOFT-DONOTFORWARDMEETING:FALSE
X-MICROSOFT-DISALLOW-COUNTER:FALSE
X-MICROSOFT-LOCATIONS:[{"DisplayName":"Microsoft Teams Meeting","LocationAnnotation":"","LocationSource":0,"Unresolved":false,"LocationUri":""}]
X-ALT-DESC;FMTTYPE=text/html:<html><body><p>Weekly 1:1</p></body></html>
BEGIN:VALARM
DESCRIPTION:REMINDER
TRIGGER;RELATED=START:-PT15M
ACTION:DISPLAY
END:VALARM
END:VEVENT
""", (W_EUROPE,))

FILES["outlook_pacific_biweekly.ics"] = outlook("""
BEGIN:VEVENT
ORGANIZER;CN="Lee, Morgan":mailto:morgan@contoso.com
ATTENDEE;ROLE=REQ-PARTICIPANT;PARTSTAT=ACCEPTED;CN="Park, Sam":mailto:sam@contoso.com
RRULE:FREQ=WEEKLY;INTERVAL=2;BYDAY=TH;WKST=SU
UID:040000008200E00074C5B7101A82E00800000000A1B2C3D4E5F6DA01000000000000000010000000
SUMMARY;LANGUAGE=en-US:Morgan <> Sam
DTSTART;TZID=Pacific Standard Time:20260108T160000
DTEND;TZID=Pacific Standard Time:20260108T163000
DTSTAMP:20260101T080000Z
SEQUENCE:3
X-MICROSOFT-CDO-BUSYSTATUS:BUSY
X-MICROSOFT-CDO-INSTTYPE:1
END:VEVENT
""", (PACIFIC,))

FILES["outlook_customized_tz.ics"] = outlook("""
BEGIN:VEVENT
ORGANIZER;CN=Mia Manager:mailto:mia@example.com
ATTENDEE;ROLE=REQ-PARTICIPANT;PARTSTAT=ACCEPTED;CN=Dana Direct:mailto:dana@example.com
RRULE:FREQ=WEEKLY;BYDAY=MO,TH
UID:outlook-customized-tz-1
SUMMARY:Stand-up with custom zone
DTSTART;TZID=Customized Time Zone:20260105T091500
DTEND;TZID=Customized Time Zone:20260105T093000
DTSTAMP:20260101T080000Z
X-MICROSOFT-CDO-INSTTYPE:1
END:VEVENT
""", (CUSTOM_NY,))

FILES["outlook_exception.ics"] = outlook("""
BEGIN:VEVENT
ORGANIZER;CN=Mia Manager:mailto:mia@example.com
ATTENDEE;ROLE=REQ-PARTICIPANT;PARTSTAT=ACCEPTED;CN=Dana Direct:mailto:dana@example.com
RRULE:FREQ=WEEKLY;BYDAY=MO
EXDATE;TZID=W. Europe Standard Time:20260309T100000
UID:040000008200E00074C5B7101A82E0080000000011223344556677880000000000000000100000001
SUMMARY:Mia / Dana
DTSTART;TZID=W. Europe Standard Time:20260105T100000
DTEND;TZID=W. Europe Standard Time:20260105T110000
DTSTAMP:20260101T080000Z
SEQUENCE:0
X-MICROSOFT-CDO-INSTTYPE:1
END:VEVENT
BEGIN:VEVENT
ORGANIZER;CN=Mia Manager:mailto:mia@example.com
ATTENDEE;ROLE=REQ-PARTICIPANT;PARTSTAT=ACCEPTED;CN=Dana Direct:mailto:dana@example.com
UID:040000008200E00074C5B7101A82E0080000000011223344556677880000000000000000100000001
RECURRENCE-ID;TZID=W. Europe Standard Time:20260119T100000
SUMMARY:Mia / Dana (moved)
DTSTART;TZID=W. Europe Standard Time:20260120T140000
DTEND;TZID=W. Europe Standard Time:20260120T150000
DTSTAMP:20260101T080000Z
SEQUENCE:1
X-MICROSOFT-CDO-INSTTYPE:3
END:VEVENT
""", (W_EUROPE,))

FILES["outlook_last_friday.ics"] = outlook("""
BEGIN:VEVENT
ORGANIZER;CN=Mia Manager:mailto:mia@example.com
RRULE:FREQ=MONTHLY;BYDAY=-1FR
UID:outlook-last-friday
SUMMARY:Monthly skip-level
DTSTART;TZID=Eastern Standard Time:20260130T150000
DTEND;TZID=Eastern Standard Time:20260130T160000
DTSTAMP:20260101T080000Z
X-MICROSOFT-CDO-INSTTYPE:1
END:VEVENT
""", (EASTERN,))

FILES["outlook_room_resource.ics"] = outlook("""
BEGIN:VEVENT
ORGANIZER;CN=Mia Manager:mailto:mia@example.com
ATTENDEE;CUTYPE=INDIVIDUAL;ROLE=REQ-PARTICIPANT;PARTSTAT=ACCEPTED;CN=Dana Direct:mailto:dana@example.com
ATTENDEE;CUTYPE=ROOM;ROLE=NON-PARTICIPANT;PARTSTAT=ACCEPTED;CN=Room Berlin 4.01:mailto:room401@example.com
ATTENDEE;CUTYPE=RESOURCE;ROLE=NON-PARTICIPANT;CN=Projector:mailto:projector@example.com
ATTENDEE;CUTYPE=GROUP;ROLE=OPT-PARTICIPANT;CN=Team:mailto:team@example.com
RRULE:FREQ=WEEKLY;BYDAY=TU;COUNT=20
UID:outlook-room-resource
SUMMARY:1:1 in a room
DTSTART;TZID=W. Europe Standard Time:20260106T120000
DTEND;TZID=W. Europe Standard Time:20260106T123000
DTSTAMP:20260101T080000Z
X-MICROSOFT-CDO-INSTTYPE:1
END:VEVENT
""", (W_EUROPE,))

FILES["outlook_exdate_pacific.ics"] = outlook("""
BEGIN:VEVENT
ORGANIZER;CN=Morgan Lee:mailto:morgan@contoso.com
ATTENDEE;ROLE=REQ-PARTICIPANT;CN=Sam Park:mailto:sam@contoso.com
RRULE:FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR;UNTIL=20260501T150000Z
EXDATE;TZID=Pacific Standard Time:20260309T080000,20260310T080000
UID:outlook-exdate-pacific
SUMMARY:Daily stand-up
DTSTART;TZID=Pacific Standard Time:20260302T080000
DTEND;TZID=Pacific Standard Time:20260302T081500
DTSTAMP:20260101T080000Z
X-MICROSOFT-CDO-INSTTYPE:1
END:VEVENT
""", (PACIFIC,))

FILES["outlook_gmt_standard.ics"] = outlook("""
BEGIN:VEVENT
ORGANIZER;CN=Alex Boss:mailto:alex@example.co.uk
ATTENDEE;ROLE=REQ-PARTICIPANT;CN=Jo Report:mailto:jo@example.co.uk
RRULE:FREQ=WEEKLY;BYDAY=MO;INTERVAL=1
UID:outlook-gmt-standard
SUMMARY:Alex / Jo
DTSTART;TZID=GMT Standard Time:20260105T090000
DTEND;TZID=GMT Standard Time:20260105T093000
DTSTAMP:20260101T080000Z
X-MICROSOFT-CDO-INSTTYPE:1
END:VEVENT
""", (GMT_STD,))

FILES["outlook_india.ics"] = outlook("""
BEGIN:VEVENT
ORGANIZER;CN=Priya Lead:mailto:priya@example.in
ATTENDEE;ROLE=REQ-PARTICIPANT;CN=Ravi Dev:mailto:ravi@example.in
RRULE:FREQ=WEEKLY;BYDAY=TU,TH;COUNT=30
UID:outlook-india
SUMMARY:Priya / Ravi
DTSTART;TZID=India Standard Time:20260106T110000
DTEND;TZID=India Standard Time:20260106T113000
DTSTAMP:20260101T080000Z
X-MICROSOFT-CDO-INSTTYPE:1
END:VEVENT
""", (INDIA,))

FILES["outlook_quoted_tzid.ics"] = outlook("""
BEGIN:VEVENT
ORGANIZER;CN=Mia Manager:mailto:mia@example.com
ATTENDEE;ROLE=REQ-PARTICIPANT;CN=Dana Direct:mailto:dana@example.com
RRULE:FREQ=WEEKLY;BYDAY=FR
UID:outlook-quoted-tzid
SUMMARY:Quoted TZID
DTSTART;TZID="Eastern Standard Time":20260109T100000
DTEND;TZID="Eastern Standard Time":20260109T103000
DTSTAMP:20260101T080000Z
END:VEVENT
""", (EASTERN,))

APPLE_ALARM = """BEGIN:VALARM
X-WR-ALARMUID:8F0B5D1E-6C0B-4D47-9C46-0C2D5E2B0A11
UID:8F0B5D1E-6C0B-4D47-9C46-0C2D5E2B0A11
TRIGGER:-PT5M
ATTACH;VALUE=URI:Chord
ACTION:AUDIO
X-APPLE-DEFAULT-ALARM:TRUE
ACKNOWLEDGED:20260101T100000Z
END:VALARM"""

FILES["apple_weekly.ics"] = plain(APPLE, f"""
BEGIN:VEVENT
CREATED:20251215T101010Z
DTEND;TZID=Europe/Berlin:20260108T153000
DTSTAMP:20251215T101010Z
DTSTART;TZID=Europe/Berlin:20260108T150000
LAST-MODIFIED:20251215T101010Z
ORGANIZER;CN=Mia Manager;EMAIL=mia@example.com:urn:uuid:5F0E3C0A-1B2C-4D5E-8F90-A1B2C3D4E5F6
ATTENDEE;CN=Dana Direct;CUTYPE=INDIVIDUAL;EMAIL=dana@example.com;PARTSTAT=ACCEPTED;ROLE=REQ-PARTICIPANT:mailto:dana@example.com
RRULE:FREQ=WEEKLY;INTERVAL=1
SEQUENCE:0
SUMMARY:Mia & Dana
TRANSP:OPAQUE
UID:7C2B1A9E-3F4D-4E5A-9B8C-1D2E3F4A5B6C
X-APPLE-CREATOR-IDENTITY:com.apple.calendar
X-APPLE-CREATOR-TEAM-IDENTITY:0000000000
X-APPLE-TRAVEL-ADVISORY-BEHAVIOR:AUTOMATIC
{APPLE_ALARM}
END:VEVENT
""", (BERLIN_TZ,))

FILES["apple_thisandfuture.ics"] = plain(APPLE, """
BEGIN:VEVENT
DTSTART;TZID=Europe/Berlin:20260105T100000
DTEND;TZID=Europe/Berlin:20260105T103000
DTSTAMP:20251215T101010Z
RRULE:FREQ=WEEKLY;BYDAY=MO
SUMMARY:Weekly 1:1
UID:apple-thisandfuture-1
SEQUENCE:0
END:VEVENT
BEGIN:VEVENT
DTSTART;TZID=Europe/Berlin:20260303T110000
DTEND;TZID=Europe/Berlin:20260303T120000
DTSTAMP:20260201T101010Z
RECURRENCE-ID;RANGE=THISANDFUTURE;TZID=Europe/Berlin:20260302T100000
SUMMARY:Weekly 1:1 (now Tuesdays, 1h)
DESCRIPTION:From March on we meet on Tuesdays.
UID:apple-thisandfuture-1
SEQUENCE:1
END:VEVENT
""", (BERLIN_TZ,))

FILES["apple_structured_location.ics"] = plain(APPLE, """
BEGIN:VEVENT
DTSTART;TZID=America/New_York:20260107T083000
DTEND;TZID=America/New_York:20260107T090000
DTSTAMP:20251215T101010Z
RRULE:FREQ=WEEKLY;BYDAY=WE;UNTIL=20261230T045959Z
LOCATION:Blue Bottle Coffee\\n1 Rockefeller Plaza\\, New York
SUMMARY:Coffee 1:1
UID:apple-structured-location
X-APPLE-STRUCTURED-LOCATION;VALUE=URI;X-ADDRESS="1 Rockefeller Plaza, New York, NY 10020";X-APPLE-RADIUS=70.5;X-TITLE="Blue Bottle Coffee":geo:40.758740,-73.978674
X-APPLE-TRAVEL-ADVISORY-BEHAVIOR:DISABLED
END:VEVENT
""", (NY_TZ,))

FILES["apple_floating.ics"] = plain(APPLE, """
BEGIN:VEVENT
DTSTART:20260110T073000
DTEND:20260110T080000
DTSTAMP:20251215T101010Z
RRULE:FREQ=DAILY;COUNT=40
SUMMARY:Morning planning (floating)
UID:apple-floating
END:VEVENT
""")

FILES["thunderbird_xlic.ics"] = plain(TB, """
BEGIN:VEVENT
CREATED:20251220T120000Z
LAST-MODIFIED:20251220T120000Z
DTSTAMP:20251220T120000Z
UID:3a1c2b4d-tb-every-3-days
SUMMARY:Every third day
RRULE:FREQ=DAILY;INTERVAL=3;COUNT=50
DTSTART;TZID=Europe/Berlin:20260102T170000
DTEND;TZID=Europe/Berlin:20260102T171500
X-MOZ-GENERATION:2
X-MOZ-LASTACK:20260101T000000Z
TRANSP:OPAQUE
END:VEVENT
""", (BERLIN_TZ,))

FILES["thunderbird_custom_tzid.ics"] = plain(TB, """
BEGIN:VEVENT
DTSTAMP:20251220T120000Z
UID:tb-custom-tzid
SUMMARY:Tokyo sync
RRULE:FREQ=WEEKLY;BYDAY=MO
DTSTART;TZID=My Tokyo:20260105T180000
DTEND;TZID=My Tokyo:20260105T183000
END:VEVENT
""", ("""BEGIN:VTIMEZONE
TZID:My Tokyo
X-LIC-LOCATION:Asia/Tokyo
BEGIN:STANDARD
TZOFFSETFROM:+0900
TZOFFSETTO:+0900
TZNAME:JST
DTSTART:19700101T000000
END:STANDARD
END:VTIMEZONE""",))

FILES["thunderbird_yearly_byday.ics"] = plain(TB, """
BEGIN:VEVENT
DTSTAMP:20251220T120000Z
UID:tb-thanksgiving
SUMMARY:Thanksgiving
RRULE:FREQ=YEARLY;BYMONTH=11;BYDAY=4TH
DTSTART;VALUE=DATE:20251127
DTEND;VALUE=DATE:20251128
END:VEVENT
""")

FILES["thunderbird_mozilla_prefix.ics"] = plain(TB, """
BEGIN:VEVENT
DTSTAMP:20251220T120000Z
UID:tb-mozilla-prefix
SUMMARY:Old Lightning TZID
RRULE:FREQ=WEEKLY;BYDAY=TU
DTSTART;TZID=/mozilla.org/20050126_1/America/New_York:20260106T090000
DTEND;TZID=/mozilla.org/20050126_1/America/New_York:20260106T093000
END:VEVENT
""", (NY_TZ.replace("TZID:America/New_York", "TZID:/mozilla.org/20050126_1/America/New_York"),))

FILES["nextcloud_sabre.ics"] = plain(NC, f"""
BEGIN:VEVENT
CREATED:20251210T080000Z
DTSTAMP:20251210T080000Z
LAST-MODIFIED:20251210T080000Z
SEQUENCE:2
UID:5e1f2a3b-nextcloud-mwf
DTSTART;TZID=Europe/Berlin:20260105T083000
DTEND;TZID=Europe/Berlin:20260105T084500
STATUS:CONFIRMED
SUMMARY:MWF check-in
RRULE:FREQ=WEEKLY;BYDAY=MO,WE,FR
{G_ORG}
ATTENDEE;CN=Dana Direct;CUTYPE=INDIVIDUAL;PARTSTAT=NEEDS-ACTION;ROLE=REQ-PARTICIPANT;RSVP=TRUE;LANGUAGE=de:mailto:dana@example.com
END:VEVENT
""", (BERLIN_TZ,))

FILES["nextcloud_rdate_period.ics"] = plain(NC, """
BEGIN:VEVENT
DTSTAMP:20251210T080000Z
UID:nextcloud-rdate-period
DTSTART;TZID=Europe/Berlin:20260115T100000
DTEND;TZID=Europe/Berlin:20260115T110000
SUMMARY:Irregular reviews
RDATE;VALUE=PERIOD;TZID=Europe/Berlin:20260219T100000/20260219T120000,20260326T093000/PT90M
END:VEVENT
""", (BERLIN_TZ,))

FILES["fastmail_weekly.ics"] = plain(FM, f"""
BEGIN:VEVENT
UID:2d6b7c1e-fastmail-weekly
SEQUENCE:0
DTSTART;TZID=Australia/Melbourne:20260108T100000
DURATION:PT30M
RRULE:FREQ=WEEKLY;BYDAY=TH
DTSTAMP:20251201T000000Z
CREATED:20251201T000000Z
SUMMARY:Melbourne 1:1
{G_ORG}
ATTENDEE;CN=Dana Direct;PARTSTAT=ACCEPTED;RSVP=TRUE;X-JMAP-ID=dana:mailto:dana@example.com
X-JMAP-RSVP-URI;X-JMAP-ID=dana:mailto:dana@example.com
X-APPLE-DEFAULT-ALARM:FALSE
END:VEVENT
""", ("""BEGIN:VTIMEZONE
TZID:Australia/Melbourne
BEGIN:STANDARD
DTSTART:19700405T030000
RRULE:FREQ=YEARLY;BYMONTH=4;BYDAY=1SU
TZNAME:AEST
TZOFFSETFROM:+1100
TZOFFSETTO:+1000
END:STANDARD
BEGIN:DAYLIGHT
DTSTART:19701004T020000
RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=1SU
TZNAME:AEDT
TZOFFSETFROM:+1000
TZOFFSETTO:+1100
END:DAYLIGHT
END:VTIMEZONE""",))

FILES["fastmail_two_series.ics"] = plain(FM, """
BEGIN:VEVENT
UID:fm-series-a
DTSTART;TZID=Europe/Berlin:20260105T090000
DTEND;TZID=Europe/Berlin:20260105T092000
RRULE:FREQ=WEEKLY;BYDAY=MO
DTSTAMP:20251201T000000Z
SUMMARY:Series A
END:VEVENT
BEGIN:VEVENT
UID:fm-series-b
DTSTART;TZID=Europe/Berlin:20260107T140000
DTEND;TZID=Europe/Berlin:20260107T150000
RRULE:FREQ=MONTHLY;BYDAY=1WE
DTSTAMP:20251201T000000Z
SUMMARY:Series B
END:VEVENT
BEGIN:VEVENT
UID:fm-single
DTSTART;TZID=Europe/Berlin:20260220T100000
DTEND;TZID=Europe/Berlin:20260220T110000
DTSTAMP:20251201T000000Z
SUMMARY:One-off
END:VEVENT
""", (BERLIN_TZ,))

FILES["radicale_simple.ics"] = plain(RAD, """
BEGIN:VEVENT
UID:radicale-simple
DTSTAMP:20251201T000000Z
DTSTART:20260105T100000Z
DTEND:20260105T103000Z
RRULE:FREQ=WEEKLY;COUNT=52
SUMMARY:UTC weekly (no X-WR)
END:VEVENT
""")

FILES["radicale_overrides_only.ics"] = plain(RAD, """
BEGIN:VEVENT
UID:radicale-invited-instances
RECURRENCE-ID;TZID=Europe/Berlin:20260212T100000
DTSTAMP:20251201T000000Z
DTSTART;TZID=Europe/Berlin:20260212T100000
DTEND;TZID=Europe/Berlin:20260212T110000
SUMMARY:Invited to one occurrence
END:VEVENT
BEGIN:VEVENT
UID:radicale-invited-instances
RECURRENCE-ID;TZID=Europe/Berlin:20260219T100000
DTSTAMP:20251201T000000Z
DTSTART;TZID=Europe/Berlin:20260219T113000
DTEND;TZID=Europe/Berlin:20260219T123000
SUMMARY:And to the next (moved)
END:VEVENT
""", (BERLIN_TZ,))

FILES["misc_missing_vtimezone.ics"] = plain("-//Example//Hand written//EN", """
BEGIN:VEVENT
UID:misc-missing-vtimezone
DTSTAMP:20251201T000000Z
DTSTART;TZID=America/Chicago:20260105T090000
DTEND;TZID=America/Chicago:20260105T093000
RRULE:FREQ=WEEKLY;BYDAY=MO,WE
SUMMARY:No VTIMEZONE at all
END:VEVENT
""")

FILES["misc_date_exdate_on_timed.ics"] = plain("-//Example//Hand written//EN", """
BEGIN:VEVENT
UID:misc-date-exdate
DTSTAMP:20251201T000000Z
DTSTART;TZID=Europe/Berlin:20260105T090000
DTEND;TZID=Europe/Berlin:20260105T093000
RRULE:FREQ=DAILY;COUNT=30
EXDATE;VALUE=DATE:20260110,20260111
SUMMARY:Daily with whole-day exclusions
END:VEVENT
""", (BERLIN_TZ,))

FILES["misc_dst_gap.ics"] = plain("-//Example//Hand written//EN", """
BEGIN:VEVENT
UID:misc-dst-gap
DTSTAMP:20251201T000000Z
DTSTART;TZID=Europe/Berlin:20260325T023000
DTEND;TZID=Europe/Berlin:20260325T030000
RRULE:FREQ=DAILY;COUNT=10
SUMMARY:Starts inside the spring-forward gap on 29 March
END:VEVENT
""", (BERLIN_TZ,))

FILES["misc_dst_fold.ics"] = plain("-//Example//Hand written//EN", """
BEGIN:VEVENT
UID:misc-dst-fold
DTSTAMP:20251201T000000Z
DTSTART;TZID=America/New_York:20261030T013000
DTEND;TZID=America/New_York:20261030T020000
RRULE:FREQ=DAILY;COUNT=5
SUMMARY:Repeated hour on 1 November
END:VEVENT
""", (NY_TZ,))

FILES["misc_duration.ics"] = plain("-//Example//Hand written//EN", """
BEGIN:VEVENT
UID:misc-duration
DTSTAMP:20251201T000000Z
DTSTART;TZID=America/New_York:20260106T160000
DURATION:PT45M
RRULE:FREQ=WEEKLY;BYDAY=TU;UNTIL=20261231T235959Z
SUMMARY:With DURATION
END:VEVENT
""", (NY_TZ,))

FILES["misc_lowercase_names.ics"] = "\n".join([
    "BEGIN:VCALENDAR", "version:2.0", "prodid:-//Example//lower case//EN",
    "begin:vevent", "uid:misc-lowercase", "dtstamp:20251201T000000Z",
    "dtstart;tzid=Europe/Berlin:20260105T120000", "dtend;tzid=Europe/Berlin:20260105T123000",
    "rrule:FREQ=WEEKLY;BYDAY=MO;COUNT=12", "summary:lower-case names", "end:vevent",
    "END:VCALENDAR"])

FILES["misc_byweekno.ics"] = plain("-//Example//Hand written//EN", """
BEGIN:VEVENT
UID:misc-byweekno
DTSTAMP:20251201T000000Z
DTSTART;TZID=Europe/Berlin:20260105T100000
DTEND;TZID=Europe/Berlin:20260105T110000
RRULE:FREQ=YEARLY;BYWEEKNO=2,20,40;BYDAY=MO
SUMMARY:Quarterly-ish planning by ISO week
END:VEVENT
""", (BERLIN_TZ,))

FILES["misc_byhour.ics"] = plain("-//Example//Hand written//EN", """
BEGIN:VEVENT
UID:misc-byhour
DTSTAMP:20251201T000000Z
DTSTART;TZID=Europe/Berlin:20260301T090000
DTEND;TZID=Europe/Berlin:20260301T091000
RRULE:FREQ=DAILY;BYHOUR=9,15;COUNT=20
SUMMARY:Twice a day
END:VEVENT
""", (BERLIN_TZ,))

FILES["misc_quoted_cn.ics"] = plain("-//Example//Hand written//EN", """
BEGIN:VEVENT
UID:misc-quoted-cn
DTSTAMP:20251201T000000Z
DTSTART;TZID=Europe/Berlin:20260105T100000
DTEND;TZID=Europe/Berlin:20260105T103000
RRULE:FREQ=WEEKLY
ORGANIZER;CN="Manager, Mia: Head of Eng":mailto:mia@example.com
ATTENDEE;CN="Smith, Ann; PhD";PARTSTAT=TENTATIVE;ROLE=OPT-PARTICIPANT:mailto:ann@example.com
SUMMARY:Quoted parameters
X-FLAG;X-EMPTY:value with a valueless parameter
END:VEVENT
""", (BERLIN_TZ,))

FILES["misc_xwr_allday.ics"] = google("""
BEGIN:VEVENT
DTSTART;VALUE=DATE:20260202
DTEND;VALUE=DATE:20260203
RRULE:FREQ=MONTHLY;BYMONTHDAY=2
DTSTAMP:20260101T120000Z
UID:misc-xwr-allday@google.com
SUMMARY:Monthly all-day reminder
END:VEVENT
""", tzs=(), xwr="Asia/Tokyo")

FILES["misc_long_folded.ics"] = plain("-//Example//Hand written//EN", """
BEGIN:VEVENT
UID:misc-long-folded
DTSTAMP:20251201T000000Z
DTSTART;TZID=Europe/Berlin:20260105T100000
DTEND;TZID=Europe/Berlin:20260105T103000
RRULE:FREQ=WEEKLY;BYDAY=MO;COUNT=30
SUMMARY:Ein sehr langer Titel für ein Einzelgespräch zwischen Führungskraft und Mitarbeiterin — mit Umlauten äöü
DESCRIPTION:Zeile eins mit Ümläuten und Emoji 😀🎉 die über fünfundsiebzig Oktette hinausgeht und gefaltet werden muss.\\nZeile zwei: Kommas\\, Semikolons\\; Backslash \\\\ Ende.
END:VEVENT
""", (BERLIN_TZ,))

FILES["misc_utc_exdate_on_zoned.ics"] = plain("-//Example//Hand written//EN", """
BEGIN:VEVENT
UID:misc-utc-exdate
DTSTAMP:20251201T000000Z
DTSTART;TZID=Europe/Berlin:20260105T100000
DTEND;TZID=Europe/Berlin:20260105T103000
RRULE:FREQ=WEEKLY;BYDAY=MO
EXDATE:20260112T090000Z,20260706T080000Z
SUMMARY:EXDATE written in UTC
END:VEVENT
""", (BERLIN_TZ,))

FILES["misc_count_across_dst_ny.ics"] = plain("-//Example//Hand written//EN", """
BEGIN:VEVENT
UID:misc-count-dst-ny
DTSTAMP:20251201T000000Z
DTSTART;TZID=America/New_York:20260302T170000
DTEND;TZID=America/New_York:20260302T173000
RRULE:FREQ=WEEKLY;INTERVAL=2;COUNT=8;BYDAY=MO
SUMMARY:Biweekly across the US DST change
END:VEVENT
""", (NY_TZ,))

# Special encodings: (name, text, eol, bom, fold at 75 octets)
SPECIAL = {
    "misc_bom_lf.ics": ("\n", True),
    "misc_mixed_eol.ics": ("mixed", False),
    "misc_fold_splits_utf8.ics": ("\r\n", False),
    "apple_weekly.ics": ("\r\n", False),
}

FILES["misc_bom_lf.ics"] = plain("-//Example//BOM and LF//EN", """
BEGIN:VEVENT
UID:misc-bom-lf
DTSTAMP:20251201T000000Z
DTSTART;TZID=Europe/Berlin:20260105T110000
DTEND;TZID=Europe/Berlin:20260105T113000
RRULE:FREQ=WEEKLY;BYDAY=MO;COUNT=20
SUMMARY:BOM and LF line endings
END:VEVENT
""", (BERLIN_TZ,))

FILES["misc_mixed_eol.ics"] = plain("-//Example//Mixed EOL//EN", """
BEGIN:VEVENT
UID:misc-mixed-eol
DTSTAMP:20251201T000000Z
DTSTART;TZID=Europe/Berlin:20260106T110000
DTEND;TZID=Europe/Berlin:20260106T113000
RRULE:FREQ=WEEKLY;BYDAY=TU;COUNT=20
SUMMARY:Mixed CRLF and LF
DESCRIPTION:line endings differ from line to line
END:VEVENT
""", (BERLIN_TZ,))

FILES["misc_fold_splits_utf8.ics"] = plain("-//Example//Byte folding//EN", """
BEGIN:VEVENT
UID:misc-fold-splits-utf8
DTSTAMP:20251201T000000Z
DTSTART;TZID=Europe/Berlin:20260107T110000
DTEND;TZID=Europe/Berlin:20260107T113000
RRULE:FREQ=WEEKLY;BYDAY=WE;COUNT=20
SUMMARY:Größenvergleich für Café-Besprechung mit Jürgen und Zoë über Überstunden
DESCRIPTION:Ä Ö Ü ä ö ü ß € — 日本語のテキストも含めます。これは折り返しがマルチバイト文字を分割するテストです。
END:VEVENT
""", (BERLIN_TZ,))


def fold_bytes(line: bytes, split_chars: bool) -> bytes:
    """Folds at 75 octets. With split_chars, folds mid-character like some producers do."""
    out = []
    while len(line) > 75:
        cut = 75
        if not split_chars:
            while cut > 0 and (line[cut] & 0xC0) == 0x80:
                cut -= 1
        out.append(line[:cut])
        line = b" " + line[cut:]
    out.append(line)
    return out


def encode(name: str, text: str) -> bytes:
    eol, bom = SPECIAL.get(name, ("\r\n", False))
    split = name == "misc_fold_splits_utf8.ics"
    physical = []
    for line in text.split("\n"):
        physical.extend(fold_bytes(line.encode("utf-8"), split))
    if eol == "mixed":
        data = b"".join(p + (b"\r\n" if i % 2 else b"\n") for i, p in enumerate(physical))
    else:
        data = b"".join(p + eol.encode() for p in physical)
    return (b"\xef\xbb\xbf" if bom else b"") + data


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, text in FILES.items():
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(encode(name, text))
    print(f"wrote {len(FILES)} files to {os.path.normpath(OUT)}", file=sys.stderr)


if __name__ == "__main__":
    main()
