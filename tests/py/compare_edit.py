#!/usr/bin/env python3
"""Checks an edited resource against its original with Python icalendar (differential test).

usage: compare_edit.py MANIFEST.json
MANIFEST: [{"original": path, "edited": path, "uid": str, "recurrence_id": RFC 3339 UTC,
            "text": str}, ...]
prints JSON [{"edited": path, "errors": [...]}]. Allowed differences: DESCRIPTION of the edited
occurrence (must equal "text"), its DTSTAMP and LAST-MODIFIED, X-ALT-DESC dropped there; a new
override may add RECURRENCE-ID, drop RRULE/RDATE/EXDATE/EXRULE, move DTSTART/DTEND to the
occurrence and set X-MICROSOFT-CDO-INSTTYPE to 3. With "client_schedules_attendees": true, the
new override's ATTENDEEs other than the organizer must also carry SCHEDULE-AGENT=CLIENT (replacing
SERVER; CLIENT or NONE kept). Everything else must be equal.
"""
import datetime as dt
import json
import re
import sys

import icalendar
import zoneinfo

# Floating and all-day values are read in the calendar's X-WR-TIMEZONE, else UTC (as in Rust).
ZONE = [dt.timezone.utc]

FREE = {"DTSTAMP", "LAST-MODIFIED"}


def load(path):
    data = open(path, "rb").read()
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    data = re.sub(rb"\r?\n[ \t]", b"", data)
    return icalendar.Calendar.from_ical(data.decode("utf-8"))


def props(comp):
    """Own properties as sorted (name, params, value) triples."""
    out = []
    for name in comp.keys():
        values = comp[name]
        if not isinstance(values, list):
            values = [values]
        for v in values:
            params = tuple(sorted((k.upper(), str(p)) for k, p in getattr(v, "params", {}).items()))
            raw = v.to_ical() if hasattr(v, "to_ical") else str(v).encode()
            if isinstance(raw, bytes):
                raw = raw.decode("utf-8", "replace")
            out.append((name.upper(), params, raw))
    return sorted(out)


def address(value):
    v = str(value).strip()
    return (v[7:] if v[:7].lower() == "mailto:" else v).lower()


def client_scheduled(triples, organizer):
    """The properties of a new override whose attendees the server must not schedule."""
    if organizer is None:
        return triples
    out = []
    for name, params, raw in triples:
        if name == "ATTENDEE" and address(raw) != organizer:
            p = dict(params)
            if p.get("SCHEDULE-AGENT", "SERVER").upper() == "SERVER":
                p["SCHEDULE-AGENT"] = "CLIENT"
            params = tuple(sorted(p.items()))
        out.append((name, params, raw))
    return sorted(out)


def subs(comp):
    return [(c.name, props(c), subs(c)) for c in comp.subcomponents]


def rid_utc(comp):
    r = comp.get("RECURRENCE-ID")
    if r is None:
        return None
    v = r.dt
    if isinstance(v, dt.datetime):
        if v.tzinfo is None:
            v = v.replace(tzinfo=ZONE[0])
        return v.astimezone(dt.timezone.utc)
    return dt.datetime(v.year, v.month, v.day, tzinfo=ZONE[0]).astimezone(dt.timezone.utc)


def key(comp):
    return (comp.name, str(comp.get("UID", "")), rid_utc(comp), str(comp.get("TZID", "")),
            str(comp.get("DTSTART").to_ical() if comp.get("DTSTART") else ""))


def check(case):
    errors = []
    orig, edited = load(case["original"]), load(case["edited"])
    wr = orig.get("X-WR-TIMEZONE")
    ZONE[0] = zoneinfo.ZoneInfo(str(wr)) if wr else dt.timezone.utc
    want_rid = dt.datetime.fromisoformat(case["recurrence_id"]).astimezone(dt.timezone.utc)
    text = case["text"].replace("\r\n", "\n").replace("\r", "\n")
    if props(orig) != props(edited):
        errors.append("VCALENDAR properties differ")
    a = {key(c): c for c in orig.subcomponents}
    b = {key(c): c for c in edited.subcomponents}
    for k, c in a.items():
        if k not in b:
            errors.append(f"component {k} is gone")
            continue
        e = b[k]
        is_target = (c.name == "VEVENT" and str(c.get("UID")) == case["uid"]
                     and (rid_utc(c) == want_rid or (rid_utc(c) is None and not c.get("RRULE")
                                                     and not c.get("RDATE"))))
        if is_target:
            if str(e.get("DESCRIPTION")) != text:
                errors.append(f"edited DESCRIPTION is {str(e.get('DESCRIPTION'))!r}")
            drop = FREE | {"DESCRIPTION", "X-ALT-DESC"}
            pa = [p for p in props(c) if p[0] not in drop]
            pb = [p for p in props(e) if p[0] not in drop]
            if pa != pb:
                errors.append(f"edited component changed beyond DESCRIPTION: {set(pa) ^ set(pb)}")
        elif props(c) != props(e):
            errors.append(f"component {k} changed: {set(props(c)) ^ set(props(e))}")
        if subs(c) != subs(e):
            errors.append(f"subcomponents of {k} changed")
    new = [b[k] for k in b if k not in a]
    if len(new) > 1:
        errors.append(f"{len(new)} new components")
    for n in new:
        if n.name != "VEVENT" or str(n.get("UID")) != case["uid"] or rid_utc(n) != want_rid:
            errors.append(f"unexpected new component {key(n)}")
            continue
        if str(n.get("DESCRIPTION")) != text:
            errors.append(f"new override DESCRIPTION is {str(n.get('DESCRIPTION'))!r}")
        master = next(c for c in orig.subcomponents if c.name == "VEVENT"
                      and str(c.get("UID")) == case["uid"] and c.get("RECURRENCE-ID") is None)
        drop = FREE | {"DESCRIPTION", "X-ALT-DESC", "RRULE", "RDATE", "EXDATE", "EXRULE",
                       "RECURRENCE-ID", "DTSTART", "DTEND", "X-MICROSOFT-CDO-INSTTYPE"}
        base = [c for c in orig.subcomponents if c.name == "VEVENT"
                and str(c.get("UID")) == case["uid"]
                and (c.get("RECURRENCE-ID") is None
                     or (c["RECURRENCE-ID"].params.get("RANGE") == "THISANDFUTURE"
                         and rid_utc(c) < want_rid))]
        base = max(base, key=lambda c: rid_utc(c) or dt.datetime.min.replace(tzinfo=dt.timezone.utc))
        pa = [p for p in props(base) if p[0] not in drop]
        if case.get("client_schedules_attendees"):
            organizer = base.get("ORGANIZER")
            pa = client_scheduled(pa, None if organizer is None else address(organizer))
        pb = [p for p in props(n) if p[0] not in drop]
        if pa != pb:
            errors.append(f"new override differs from its base: {set(pa) ^ set(pb)}")
        ms = master["DTSTART"]
        for name in ("RECURRENCE-ID", "DTSTART"):
            p = n[name]
            if dict(p.params).get("TZID") != dict(ms.params).get("TZID"):
                errors.append(f"{name} TZID {p.params.get('TZID')} != master's")
            if type(p.dt) is not type(ms.dt):
                errors.append(f"{name} value type differs from master DTSTART")
        if n.get("RRULE") or n.get("EXDATE") or n.get("RDATE"):
            errors.append("new override carries the recurrence set")
        if subs(base) != subs(n):
            errors.append("new override lost or changed subcomponents")
        if "X-MICROSOFT-CDO-INSTTYPE" in master and str(n["X-MICROSOFT-CDO-INSTTYPE"]) != "3":
            errors.append("Outlook exception not marked INSTTYPE 3")
    return errors


def main():
    cases = json.load(open(sys.argv[1]))
    out = []
    for case in cases:
        try:
            errors = check(case)
        except Exception as e:
            errors = [f"{type(e).__name__}: {e}"]
        out.append({"edited": case["edited"], "errors": errors})
    json.dump(out, sys.stdout, indent=1)


if __name__ == "__main__":
    main()
