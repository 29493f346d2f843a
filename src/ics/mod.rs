//! iCalendar: parse into `model`, expand recurrences, and the one lossless edit we make.
