"""The demo's manager calendar, written to a CalDAV collection (used by scripts/demo).

    demo-calendar.py CALENDAR_URL USER PASSWORD           create the calendar and its events
    demo-calendar.py --show CALENDAR_URL USER PASSWORD UID [NOW]
                                                          print the description of the next
                                                          occurrence with an agenda after NOW
                                                          (RFC 3339; default: now)
    demo-calendar.py --edit CALENDAR_URL USER PASSWORD UID as the direct would in a calendar app:
                                                          tick the first open item of the next
                                                          agenda and add a topic of their own
    demo-calendar.py --cancel CALENDAR_URL USER PASSWORD UID cancel the latest occurrence that has
                                                          an agenda (the next one), as a calendar
                                                          app cancels one occurrence
"""

import base64
import datetime as dt
import sys
import urllib.request

PEOPLE = {
    "alice": "Alice Martin",
    "bob": "Bob Okafor",
    "chen": "Chen Wei",
    "dara": "Dara Byrne",
    "eli": "Eli Cohen",
}


def request(method, url, user, password, body=None, headers=None):
    req = urllib.request.Request(url, data=body, method=method)
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    req.add_header("Authorization", f"Basic {token}")
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    with urllib.request.urlopen(req) as resp:
        return resp.read()


def get(url, user, password):
    """The body and the ETag, for a write conditional on it (as any calendar client does)."""
    req = urllib.request.Request(url, method="GET")
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    req.add_header("Authorization", f"Basic {token}")
    with urllib.request.urlopen(req) as resp:
        return resp.read(), resp.headers["ETag"]


def attendee(key, partstat="ACCEPTED"):
    return f"ATTENDEE;CN={PEOPLE[key]};PARTSTAT={partstat}:mailto:{key}@example.com\r\n"


def event(uid, summary, start, minutes, tz, rrule=None, people=(), extra=""):
    lines = [
        "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//oneonone demo//EN", "BEGIN:VEVENT",
        f"UID:{uid}", "DTSTAMP:20260101T000000Z",
        f"DTSTART;TZID={tz}:{start:%Y%m%dT%H%M%S}",
        f"DTEND;TZID={tz}:{start + dt.timedelta(minutes=minutes):%Y%m%dT%H%M%S}",
        f"SUMMARY:{summary}",
    ]
    if rrule:
        lines.append(f"RRULE:{rrule}")
    body = "\r\n".join(lines) + "\r\n"
    if people:
        body += "ORGANIZER;CN=Sam Rivera:mailto:sam@example.com\r\n"
        body += "ATTENDEE;CN=Sam Rivera;PARTSTAT=ACCEPTED:mailto:sam@example.com\r\n"
        for p in people:
            body += attendee(p)
    body += extra + "END:VEVENT\r\n"
    return body + "END:VCALENDAR\r\n"


def monday(weeks_back):
    today = dt.date.today()
    d = today - dt.timedelta(days=today.weekday()) - dt.timedelta(weeks=weeks_back)
    return dt.datetime(d.year, d.month, d.day)


def create(cal, user, password):
    request("MKCALENDAR", cal, user, password)
    m = monday(4)
    skipped = monday(-1) + dt.timedelta(days=3, hours=14)
    events = {
        "weekly-alice": event("weekly-alice", "1:1 Alice / Sam", m + dt.timedelta(hours=10), 30,
                              "Europe/Berlin", "FREQ=WEEKLY", ["alice"],
                              "DESCRIPTION:Alice's own notes: bring the roadmap draft.\r\n"),
        "biweekly-bob": event("biweekly-bob", "Bob <> Sam", m + dt.timedelta(days=1, hours=9), 30,
                              "America/New_York", "FREQ=WEEKLY;INTERVAL=2", ["bob"]),
        "weekly-chen": event("weekly-chen", "Sam / Chen weekly", m + dt.timedelta(days=2, hours=17),
                             30, "Asia/Tokyo", "FREQ=WEEKLY", ["chen"]),
        "weekly-dara": event("weekly-dara", "Catch-up with Dara", m + dt.timedelta(days=3, hours=14),
                             30, "Europe/London", "FREQ=WEEKLY", ["dara"],
                             f"EXDATE;TZID=Europe/London:{skipped:%Y%m%dT%H%M%S}\r\n"),
        "weekly-eli": event("weekly-eli", "1-on-1 Eli", m + dt.timedelta(days=4, hours=11), 45,
                            "Europe/Berlin", "FREQ=WEEKLY", ["eli"]),
        "team-sync": event("team-sync", "Team sync", m + dt.timedelta(hours=15), 60,
                           "Europe/Berlin", "FREQ=WEEKLY", list(PEOPLE)),
        "interview": event("interview", "Interview loop: candidate Jordan Lee",
                           m + dt.timedelta(days=30, hours=13), 45, "Europe/Berlin", None,
                           ["alice", "bob"]),
        "focus": event("focus", "Focus time", m + dt.timedelta(hours=8), 90, "Europe/Berlin",
                       "FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR", (), "TRANSP:TRANSPARENT\r\n"),
    }
    for uid, body in events.items():
        request("PUT", f"{cal}{uid}.ics", user, password, body.encode(),
                {"Content-Type": "text/calendar; charset=utf-8", "If-None-Match": "*"})
    print(f"{len(events)} events in {cal}: five 1:1s (Berlin, New York, Tokyo, London), a team "
          "meeting, an interview, focus blocks")


def show(cal, user, password, uid, at=None):
    import icalendar
    import recurring_ical_events

    data = request("GET", f"{cal}{uid}.ics", user, password)
    now = (dt.datetime.fromisoformat(at.replace("Z", "+00:00")) if at
           else dt.datetime.now(dt.timezone.utc))
    events = recurring_ical_events.of(icalendar.Calendar.from_ical(data)).between(
        now, now + dt.timedelta(days=8))
    for ev in sorted(events, key=lambda e: e["DTSTART"].dt):
        desc = str(ev.get("DESCRIPTION", ""))
        if "oneonone agenda" in desc:
            print(f"{ev['SUMMARY']}, {ev['DTSTART'].dt:%a %d %b %H:%M %Z}:\n")
            print(desc)
            return
    print("(no agenda in the next 8 days)")


def with_agenda(cal, user, password, uid):
    """The resource, its ETag, and its occurrences that carry an agenda, latest first."""
    import icalendar

    url = f"{cal}{uid}.ics"
    data, etag = get(url, user, password)
    ical = icalendar.Calendar.from_ical(data)
    found = [ev for ev in ical.walk("VEVENT")
             if "RECURRENCE-ID" in ev and "oneonone agenda" in str(ev.get("DESCRIPTION", ""))]
    found.sort(key=lambda ev: ev["RECURRENCE-ID"].dt, reverse=True)
    return url, etag, ical, found


def put_back(url, user, password, ical, etag):
    request("PUT", url, user, password, ical.to_ical(),
            {"Content-Type": "text/calendar; charset=utf-8", "If-Match": etag})


def cancel(cal, user, password, uid):
    url, etag, ical, found = with_agenda(cal, user, password, uid)
    ev = found[0]
    ev["STATUS"] = "CANCELLED"
    put_back(url, user, password, ical, etag)
    print(f"cancelled: {ev['SUMMARY']}, {ev['DTSTART'].dt:%a %d %b %H:%M}")


def edit(cal, user, password, uid):
    url, etag, ical, found = with_agenda(cal, user, password, uid)
    for ev in found[:1]:
        desc = str(ev["DESCRIPTION"])
        lines = desc.split("\n")
        ticked = next((i for i, line in enumerate(lines) if line.startswith("- [ ] ")), None)
        if ticked is not None:
            lines[ticked] = "- [x] " + lines[ticked][6:]
            print(f"ticked:  {lines[ticked]}")
        first = next(i for i, line in enumerate(lines) if line.endswith("goes first."))
        lines.insert(first + 1, "- [ ] Share the hiring plan for Q1")
        print(f"added:   {lines[first + 1]}")
        ev["DESCRIPTION"] = "\n".join(lines)
        put_back(url, user, password, ical, etag)
        return
    print("(no agenda to edit)")


if __name__ == "__main__":
    if sys.argv[1] == "--show":
        show(*sys.argv[2:7])
    elif sys.argv[1] == "--edit":
        edit(*sys.argv[2:6])
    elif sys.argv[1] == "--cancel":
        cancel(*sys.argv[2:6])
    else:
        create(*sys.argv[1:4])
