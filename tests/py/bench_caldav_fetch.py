#!/usr/bin/env python3
"""Fetches every event of one calendar with the Python `caldav` library (a peer in scripts/bench).

usage: bench_caldav_fetch.py CALENDAR_URL USER PASSWORD; prints `events=<n>`.
"""
import sys

import caldav

url, user, password = sys.argv[1:4]
# A long timeout: Radicale parses a 10,000-item collection on its first read.
with caldav.DAVClient(url=url, username=user, password=password, timeout=900) as client:
    events = client.calendar(url=url).events()
    size = sum(len(e.data) for e in events)
print(f"events={len(events)} bytes={size}")
