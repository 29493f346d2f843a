#!/usr/bin/env python3
"""Python icalendar's parse throughput on one file: prints `python_mb_per_s=<float>`."""
import sys
import time

import icalendar

data = open(sys.argv[1], "rb").read()
runs = int(sys.argv[2]) if len(sys.argv) > 2 else 3
best = float("inf")
for _ in range(runs):
    t = time.perf_counter()
    cal = icalendar.Calendar.from_ical(data)
    best = min(best, time.perf_counter() - t)
events = len(cal.walk("VEVENT"))
print(f"python_events={events}")
print(f"python_mb_per_s={len(data) / best / 1e6:.3f}")
