#!/usr/bin/env python3
"""Reference expansion for the differential test: Python icalendar + recurring-ical-events.

usage: expand.py FROM TO FILE...   (FROM/TO as RFC 3339 UTC)
prints JSON {file: {"starts": [RFC 3339 UTC, ...]} | {"error": "..."}}: every occurrence whose
start lies in [FROM, TO). Floating and all-day times are read in the calendar's X-WR-TIMEZONE,
else UTC (the same default the Rust side is given).
"""
import datetime as dt
import json
import re
import sys
import zoneinfo

import icalendar
import recurring_ical_events


def load(path):
    data = open(path, "rb").read()
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    # Unfold at the byte level first: a fold may split a UTF-8 character, which Python
    # icalendar cannot read (it decodes before unfolding). Semantics are unchanged.
    data = re.sub(rb"\r?\n[ \t]", b"", data)
    return icalendar.Calendar.from_ical(data.decode("utf-8"))


def to_utc(value, zone):
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=zone)
        return value.astimezone(dt.timezone.utc)
    return dt.datetime(value.year, value.month, value.day, tzinfo=zone).astimezone(dt.timezone.utc)


def main():
    start = dt.datetime.fromisoformat(sys.argv[1])
    stop = dt.datetime.fromisoformat(sys.argv[2])
    out = {}
    for path in sys.argv[3:]:
        try:
            cal = load(path)
            wr = cal.get("X-WR-TIMEZONE")
            zone = zoneinfo.ZoneInfo(str(wr)) if wr else dt.timezone.utc
            # Ask a wider window (events overlapping it) and keep the starts inside.
            q = recurring_ical_events.of(cal).between(
                start - dt.timedelta(days=3), stop + dt.timedelta(days=3))
            starts = set()
            for ev in q:
                s = to_utc(ev["DTSTART"].dt, zone)
                if start <= s < stop:
                    starts.add(s.strftime("%Y-%m-%dT%H:%M:%SZ"))
            out[path] = {"starts": sorted(starts)}
        except Exception as e:  # reported per file, like the Rust side
            out[path] = {"error": f"{type(e).__name__}: {e}"}
    json.dump(out, sys.stdout, indent=1)


if __name__ == "__main__":
    main()
