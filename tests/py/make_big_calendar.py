#!/usr/bin/env python3
"""Writes a large producer-shaped calendar for benchmarks (never committed).

usage: make_big_calendar.py OUT [MEGABYTES=5]
Google-style export: VTIMEZONE, then weekly/biweekly/monthly series with attendees, folded long
descriptions, overrides and one-off events, until the file reaches the size asked for.
"""
import random
import sys

sys.path.insert(0, __import__("os").path.dirname(__file__))
from make_corpus import BERLIN_TZ, fold_bytes  # noqa: E402

RULES = ["FREQ=WEEKLY;BYDAY=MO", "FREQ=WEEKLY;INTERVAL=2;BYDAY=TH",
         "FREQ=MONTHLY;BYDAY=-1FR", "FREQ=WEEKLY;BYDAY=TU;COUNT=30", None, None]


def event(i, rng):
    day = 1 + i % 28
    hour = 8 + i % 9
    rule = RULES[i % len(RULES)]
    lines = [
        "BEGIN:VEVENT",
        f"DTSTART;TZID=Europe/Berlin:202601{day:02d}T{hour:02d}0000",
        f"DTEND;TZID=Europe/Berlin:202601{day:02d}T{hour:02d}3000",
    ]
    if rule:
        lines.append(f"RRULE:{rule}")
    lines += [
        "DTSTAMP:20260101T120000Z",
        "ORGANIZER;CN=Mia Manager:mailto:mia@example.com",
        f"UID:bench-{i}-{rng.randrange(1 << 30)}@google.com",
        f"ATTENDEE;CUTYPE=INDIVIDUAL;ROLE=REQ-PARTICIPANT;PARTSTAT=ACCEPTED;CN=Person {i};"
        f"X-NUM-GUESTS=0:mailto:person{i}@example.com",
        "ATTENDEE;CUTYPE=INDIVIDUAL;ROLE=REQ-PARTICIPANT;PARTSTAT=ACCEPTED;CN=Mia Manager;"
        "X-NUM-GUESTS=0:mailto:mia@example.com",
        "CREATED:20251201T090000Z",
        "DESCRIPTION:" + "Agenda\\n- [ ] item für Person, with commas\\, and; more "
        + "lorem ipsum " * rng.randrange(2, 12),
        "LAST-MODIFIED:20251201T090000Z",
        "LOCATION:Room 4\\, 2nd floor",
        "SEQUENCE:0",
        "STATUS:CONFIRMED",
        f"SUMMARY:1:1 Mia / Person {i}",
        "TRANSP:OPAQUE",
        "END:VEVENT",
    ]
    return lines


def main():
    out = sys.argv[1]
    target = int(float(sys.argv[2] if len(sys.argv) > 2 else 5) * 1_000_000)
    rng = random.Random(42)
    head = ["BEGIN:VCALENDAR", "PRODID:-//Google Inc//Google Calendar 70.9054//EN",
            "VERSION:2.0", "CALSCALE:GREGORIAN", "X-WR-TIMEZONE:Europe/Berlin", BERLIN_TZ]
    chunks = [("\r\n".join(head) + "\r\n").encode()]
    size = len(chunks[0])
    i = 0
    while size < target:
        for line in event(i, rng):
            b = b"".join(p + b"\r\n" for p in fold_bytes(line.encode(), False))
            chunks.append(b)
            size += len(b)
        i += 1
    chunks.append(b"END:VCALENDAR\r\n")
    with open(out, "wb") as f:
        f.write(b"".join(chunks))
    print(f"{out}: {size} bytes, {i} events", file=sys.stderr)


if __name__ == "__main__":
    main()
