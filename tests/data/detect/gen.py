#!/usr/bin/env python3
"""Writes the labeled 1:1 detection corpus: five calendar exports (Google, Outlook/Exchange,
iCloud, Nextcloud/Thunderbird, Fastmail) and labels.tsv.

The labels are written by hand, case by case, from what the calendar's owner would answer to
"is this one of your recurring 1:1s, and with whom?" -- not from what the detector says. Run it
from anywhere: `python3 tests/data/detect/gen.py`; it rewrites the files beside it and is
deterministic (fixed seed, fixed dates), so a diff shows exactly what changed.
"""

import os
import random
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
rng = random.Random(20261124)

# --- VTIMEZONE blocks as the producers write them -------------------------------------------

VTZ = {
    "Europe/Berlin": """BEGIN:VTIMEZONE
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
END:VTIMEZONE""",
    "America/New_York": """BEGIN:VTIMEZONE
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
END:VTIMEZONE""",
    "Asia/Tokyo": """BEGIN:VTIMEZONE
TZID:Asia/Tokyo
BEGIN:STANDARD
TZOFFSETFROM:+0900
TZOFFSETTO:+0900
TZNAME:JST
DTSTART:19700101T000000
END:STANDARD
END:VTIMEZONE""",
    "W. Europe Standard Time": """BEGIN:VTIMEZONE
TZID:W. Europe Standard Time
BEGIN:STANDARD
DTSTART:16010101T030000
TZOFFSETFROM:+0200
TZOFFSETTO:+0100
RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=-1SU;BYMONTH=10
END:STANDARD
BEGIN:DAYLIGHT
DTSTART:16010101T020000
TZOFFSETFROM:+0100
TZOFFSETTO:+0200
RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=-1SU;BYMONTH=3
END:DAYLIGHT
END:VTIMEZONE""",
    "Pacific Standard Time": """BEGIN:VTIMEZONE
TZID:Pacific Standard Time
BEGIN:STANDARD
DTSTART:16010101T020000
TZOFFSETFROM:-0700
TZOFFSETTO:-0800
RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=1SU;BYMONTH=11
END:STANDARD
BEGIN:DAYLIGHT
DTSTART:16010101T020000
TZOFFSETFROM:-0800
TZOFFSETTO:-0700
RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=2SU;BYMONTH=3
END:DAYLIGHT
END:VTIMEZONE""",
}


def fold(line):
    """RFC 5545 folding: at most 75 octets per line, never splitting a UTF-8 character."""
    out, cur = [], b""
    limit = 75
    for ch in line:
        b = ch.encode("utf-8")
        if len(cur) + len(b) > limit:
            out.append(cur)
            cur = b" "
            limit = 75
        cur += b
    out.append(cur)
    return b"\r\n".join(out).decode("utf-8")


def text(s):
    return (
        s.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")
    )


def param(v):
    return f'"{v}"' if any(c in v for c in ',;:') else v


# --- The model of one case ------------------------------------------------------------------


class P:
    """A participant: email (None for a CN-only attendee), display name, and parameters."""

    def __init__(self, email, name=None, cutype=None, role=None, partstat="ACCEPTED",
                 value=None, email_param=False):
        self.email, self.name, self.cutype, self.role = email, name, cutype, role
        self.partstat, self.value, self.email_param = partstat, value, email_param

    def but(self, **kw):
        q = P(self.email, self.name, self.cutype, self.role, self.partstat, self.value,
              self.email_param)
        for k, v in kw.items():
            setattr(q, k, v)
        return q


class Case:
    def __init__(self, title, label, other="-", note="", organizer=None, attendees=(),
                 rrule="FREQ=WEEKLY", minutes=30, start=None, status="CONFIRMED",
                 transp="OPAQUE", allday=False, rdates=(), exdates=(), overrides=(),
                 xprops=(), description=None, location=None, no_master=False, uid=None):
        self.title, self.label, self.other, self.note = title, label, other, note
        self.organizer, self.attendees = organizer, list(attendees)
        self.rrule, self.minutes, self.start = rrule, minutes, start
        self.status, self.transp, self.allday = status, transp, allday
        self.rdates, self.exdates, self.overrides = list(rdates), list(exdates), list(overrides)
        self.xprops, self.description, self.location = list(xprops), description, location
        self.no_master = no_master
        self.uid = uid


# --- Producers -----------------------------------------------------------------------------


class Producer:
    prodid = ""
    tz = "UTC"
    header = ()

    def __init__(self, owner_emails):
        self.owner_emails = owner_emails
        self.day = 0

    def uid(self):
        return str(uuid.UUID(int=rng.getrandbits(128), version=4))

    def next_start(self, case):
        # Spread the series over working days of January 2026, at realistic hours.
        self.day += 1
        day = 5 + (self.day * 3) % 25
        hour = 8 + (self.day * 5) % 9
        minute = (0, 0, 30, 15)[self.day % 4]
        return (2026, 1, day, hour, minute)

    def dt(self, name, t, minutes=0, allday=False):
        y, mo, d, h, mi = t
        total = h * 60 + mi + minutes
        d2 = d + total // (24 * 60)
        total %= 24 * 60
        if allday:
            return f"{name};VALUE=DATE:{y:04d}{mo:02d}{d2:02d}"
        return f"{name};TZID={param(self.tz)}:{y:04d}{mo:02d}{d2:02d}T{total // 60:02d}{total % 60:02d}00"

    def week(self, t, weeks):
        y, mo, d, h, mi = t
        d += 7 * weeks
        while d > 31 and mo in (1, 3, 5, 7, 8, 10, 12) or d > 30 and mo in (4, 6, 9, 11) \
                or d > 28 and mo == 2:
            d -= {1: 31, 2: 28, 3: 31, 4: 30, 5: 31, 6: 30, 7: 31, 8: 31, 9: 30, 10: 31,
                  11: 30, 12: 31}[mo]
            mo += 1
        return (y, mo, d, h, mi)

    def organizer_line(self, p):
        return f"ORGANIZER;CN={param(p.name or p.email)}:mailto:{p.email}"

    def attendee_line(self, p):
        params = []
        if p.cutype:
            params.append(f"CUTYPE={p.cutype}")
        params.append(f"ROLE={p.role or 'REQ-PARTICIPANT'}")
        params.append(f"PARTSTAT={p.partstat}")
        if p.name:
            params.append(f"CN={param(p.name)}")
        return f"ATTENDEE;{';'.join(params)}:{self.address(p)}"

    def address(self, p):
        if p.value:
            return p.value
        return f"mailto:{p.email}" if p.email else "invalid:nomail"

    def extra(self, case):
        return []

    def vevent(self, case, uid, start, recurrence_id=None, ov=None):
        ov = ov or {}
        title = ov.get("title", case.title)
        minutes = ov.get("minutes", case.minutes)
        st = ov.get("start", start)
        lines = ["BEGIN:VEVENT"]
        lines.append(self.dt("DTSTART", st, allday=case.allday))
        lines.append(self.dt("DTEND", st, minutes, allday=case.allday) if not case.allday
                     else self.dt("DTEND", self.week(st, 0)[:2] + (st[2] + 1,) + st[3:],
                                  allday=True))
        if recurrence_id is None and not case.no_master:
            if case.rrule:
                lines.append(f"RRULE:{case.rrule}")
            for r in case.rdates:
                lines.append(self.dt("RDATE", self.week(start, r)))
            for x in case.exdates:
                lines.append(self.dt("EXDATE", self.week(start, x)))
        if recurrence_id is not None:
            lines.append(self.dt("RECURRENCE-ID", recurrence_id, allday=case.allday))
        lines.append("DTSTAMP:20261120T091500Z")
        if case.organizer is not None:
            lines.append(self.organizer_line(case.organizer))
        lines.append(f"UID:{uid}")
        for a in ov.get("attendees", case.attendees):
            lines.append(self.attendee_line(a))
        lines.append("CREATED:20251201T100000Z")
        desc = ov.get("description", case.description)
        if desc:
            lines.append(f"DESCRIPTION:{text(desc)}")
        lines.append("LAST-MODIFIED:20261101T120000Z")
        if case.location:
            lines.append(f"LOCATION:{text(case.location)}")
        lines.append(f"SEQUENCE:{ov.get('sequence', 0)}")
        lines.append(f"STATUS:{ov.get('status', case.status)}")
        if title is not None:
            lines.append(f"SUMMARY:{text(title)}")
        lines.append(f"TRANSP:{case.transp}")
        lines.extend(case.xprops)
        lines.extend(self.extra(case))
        lines.append("END:VEVENT")
        return lines

    def render(self, cases, labels, fname):
        out = ["BEGIN:VCALENDAR", f"PRODID:{self.prodid}", "VERSION:2.0"]
        out.extend(self.header)
        out.append(VTZ[self.tz])
        for case in cases:
            uid = case.uid or self.uid()
            start = case.start or self.next_start(case)
            if not case.no_master:
                out.extend(self.vevent(case, uid, start))
            for weeks, ov in case.overrides:
                rid = self.week(start, weeks)
                if "shift" in ov:
                    y, mo, d, h, mi = rid
                    ov = dict(ov, start=(y, mo, d, h + ov["shift"], mi))
                out.extend(self.vevent(case, uid, start, recurrence_id=rid, ov=ov))
            labels.append((fname, uid, "true" if case.label else "false", case.other,
                           ",".join(self.owner_emails), case.note))
        out.append("END:VCALENDAR")
        body = "\r\n".join(fold(line) if "\n" not in line else line.replace("\n", "\r\n")
                           for line in out) + "\r\n"
        with open(os.path.join(HERE, fname), "w", encoding="utf-8", newline="") as f:
            f.write(body)


class Google(Producer):
    prodid = "-//Google Inc//Google Calendar 70.9054//EN"
    tz = "Europe/Berlin"
    header = ("CALSCALE:GREGORIAN", "METHOD:PUBLISH", "X-WR-CALNAME:sam@acme.io",
              "X-WR-TIMEZONE:Europe/Berlin")

    def uid(self):
        return "".join(rng.choice("0123456789abcdefghijklmnopqrstuv") for _ in range(26)) \
            + "@google.com"

    def attendee_line(self, p):
        params = [f"CUTYPE={p.cutype or 'INDIVIDUAL'}" if p.cutype != "" else None,
                  f"ROLE={p.role or 'REQ-PARTICIPANT'}", f"PARTSTAT={p.partstat}"]
        if p.partstat == "NEEDS-ACTION":
            params.append("RSVP=TRUE")
        params.append(f"CN={param(p.name or p.email or 'unknown')}")
        params.append("X-NUM-GUESTS=0")
        return f"ATTENDEE;{';'.join(x for x in params if x)}:{self.address(p)}"

    def extra(self, case):
        if case.organizer is None or not case.attendees:
            return []
        code = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(10))
        return [f"X-GOOGLE-CONFERENCE:https://meet.google.com/{code[:3]}-{code[3:7]}-{code[7:]}"]


class Outlook(Producer):
    prodid = "-//Microsoft Corporation//Outlook 16.0 MIMEDIR//EN"
    tz = "W. Europe Standard Time"
    header = ("METHOD:PUBLISH", "X-CALSTART:20260101T000000Z", "X-WR-RELCALID:{0000002E-1A2B}")

    def uid(self):
        return "040000008200E00074C5B7101A82E00800000000" + "".join(
            rng.choice("0123456789ABCDEF") for _ in range(72))

    def organizer_line(self, p):
        return f'ORGANIZER;CN="{p.name or p.email}":mailto:{p.email}'

    def attendee_line(self, p):
        params = [f'CN="{p.name or p.email}"']
        if p.cutype:
            params.append(f"CUTYPE={p.cutype}")
        params.append("RSVP=TRUE")
        params.append(f"ROLE={p.role or 'REQ-PARTICIPANT'}")
        if p.partstat != "NEEDS-ACTION":
            params.append(f"PARTSTAT={p.partstat}")
        return f"ATTENDEE;{';'.join(params)}:{self.address(p)}"

    def extra(self, case):
        busy = "FREE" if case.transp == "TRANSPARENT" else "BUSY"
        if any(x.startswith("X-MICROSOFT-CDO-BUSYSTATUS") for x in case.xprops):
            busy = None
        out = ["CLASS:PUBLIC", "PRIORITY:5"]
        if busy:
            out.append(f"X-MICROSOFT-CDO-BUSYSTATUS:{busy}")
        out += ["X-MICROSOFT-CDO-IMPORTANCE:1", "X-MICROSOFT-DISALLOW-COUNTER:FALSE",
                "X-MS-OLK-CONFTYPE:0"]
        return out


class ICloud(Producer):
    prodid = "-//Apple Inc.//macOS 15.1//EN"
    tz = "Asia/Tokyo"
    header = ("CALSCALE:GREGORIAN",)

    def uid(self):
        return str(uuid.UUID(int=rng.getrandbits(128), version=4)).upper()

    def organizer_line(self, p):
        return f"ORGANIZER;CN={param(p.name or p.email)};EMAIL={p.email}:mailto:{p.email}"

    def attendee_line(self, p):
        params = [f"CN={param(p.name or p.email or 'Unknown')}",
                  f"CUTYPE={p.cutype or 'INDIVIDUAL'}"]
        if p.email:
            params.append(f"EMAIL={p.email}")
        params.append(f"PARTSTAT={p.partstat}")
        params.append(f"ROLE={p.role or 'REQ-PARTICIPANT'}")
        if p.partstat == "NEEDS-ACTION":
            params.append("RSVP=TRUE")
        value = p.value or (f"urn:uuid:{uuid.UUID(int=rng.getrandbits(128), version=4)}"
                            if p.email_param else self.address(p))
        return f"ATTENDEE;{';'.join(params)}:{value}"

    def extra(self, case):
        return ["X-APPLE-TRAVEL-ADVISORY-BEHAVIOR:AUTOMATIC"]


class Nextcloud(Producer):
    prodid = "-//IDN nextcloud.com//Calendar app 5.0.6//EN"
    tz = "Europe/Berlin"
    header = ("CALSCALE:GREGORIAN",)

    def attendee_line(self, p):
        params = []
        if p.name:
            params.append(f"CN={param(p.name)}")
        params.append(f"CUTYPE={p.cutype or 'INDIVIDUAL'}")
        params.append(f"PARTSTAT={p.partstat}")
        params.append(f"ROLE={p.role or 'REQ-PARTICIPANT'}")
        params.append("RSVP=TRUE")
        params.append("LANGUAGE=de")
        return f"ATTENDEE;{';'.join(params)}:{self.address(p)}"


class Fastmail(Producer):
    prodid = "-//Fastmail/2020.5/EN"
    tz = "America/New_York"
    header = ("CALSCALE:GREGORIAN",)

    def attendee_line(self, p):
        params = []
        if p.name:
            params.append(f"CN={param(p.name)}")
        if p.cutype:
            params.append(f"CUTYPE={p.cutype}")
        params.append(f"PARTSTAT={p.partstat}")
        if p.role:
            params.append(f"ROLE={p.role}")
        params.append("X-JMAP-ID=" + "".join(rng.choice("abcdef0123456789") for _ in range(8)))
        return f"ATTENDEE;{';'.join(params)}:{self.address(p)}"


# --- The cases ------------------------------------------------------------------------------

def google_cases():
    sam = P("sam@acme.io", "Sam Lee")
    sam_alias = P("sam.lee@acme.io", "Sam Lee")
    sam_old = P("sam@acme.com", "Sam Lee")
    ppl = {k: P(f"{k}@acme.io", n) for k, n in [
        ("alice.martin", "Alice Martin"), ("bob.nguyen", "Bob Nguyen"),
        ("carol.diaz", "Carol Diaz"), ("dev.patel", "Dev Patel"), ("elena.rossi", "Elena Rossi"),
        ("farid.haddad", "Farid Haddad"), ("grace.kim", "Grace Kim"),
        ("hugo.silva", "Hugo Silva"), ("ines.costa", "Inês Costa"), ("jamal.ali", "Jamal Ali"),
        ("dana.wright", "Dana Wright"), ("olivia.ea", "Olivia Brooks"),
        ("recruiting", "Recruiting Coordinator"), ("kai.berg", "Kai Berg"),
        ("lena.vogel", "Lena Vogel"), ("marco.bianchi", "Marco Bianchi")]}
    a, b, c, d, e, f, g, h, i, j = (ppl[k] for k in [
        "alice.martin", "bob.nguyen", "carol.diaz", "dev.patel", "elena.rossi",
        "farid.haddad", "grace.kim", "hugo.silva", "ines.costa", "jamal.ali"])
    dana, olivia = ppl["dana.wright"], ppl["olivia.ea"]
    room = P("c_1887a9d2b3e1f4c6@resource.calendar.google.com", "Berlin-3-Spree (6)",
             cutype="RESOURCE")
    room_nocu = P("c_18803kq0ud3qeh2ijv6r0qpg5pnak@resource.calendar.google.com",
                  "Berlin-2-Mitte (4) [Zoom]", cutype="")
    team = P("platform-team@acme.io", "Platform team", cutype="GROUP")

    def mine(title, other, label=True, note="", extra=(), **kw):
        return Case(title, label, (other.email or other.name) if label else "-", note, organizer=sam,
                    attendees=[sam, other, *extra], **kw)

    return [
        mine("1:1 Alice / Sam", a, note="classic 1:1 title"),
        mine("Bob <> Sam", b, note="name pair <>", rrule="FREQ=WEEKLY;INTERVAL=2;BYDAY=TU"),
        mine("Carol x Sam", c, note="name pair x"),
        mine("Dev & Sam", d, note="name pair &", minutes=45),
        mine("Sync Elena/Sam", e, note="Sync name/name"),
        mine("Farid 1-1", f, note="1-1 spelling", rrule="FREQ=WEEKLY;BYDAY=TH"),
        mine("1on1 Grace", g, note="1on1 spelling"),
        mine("1-on-1: Hugo", h, note="1-on-1 spelling", minutes=60),
        mine("One-on-one with Inês", i, note="one-on-one, accented name"),
        mine("Jamal / Sam weekly", j, note="name pair with a suffix", extra=[room],
             location="Berlin-3-Spree (6)"),
        mine("Weekly catch-up", P("kai.berg@acme.io", "Kai Berg"),
             note="two people, no title signal"),
        mine("Check-in", P("lena.vogel@acme.io", "Lena Vogel"),
             note="two people, no title signal", rrule="FREQ=WEEKLY;INTERVAL=2"),
        mine("Coffee chat", P("marco.bianchi@acme.io", "Marco Bianchi"),
             note="two people, informal title", rrule="FREQ=MONTHLY;BYDAY=1WE", minutes=25),
        mine("Alice / Sam", a.but(partstat="TENTATIVE"), note="other person tentative",
             extra=[room_nocu]),
        Case("O3 Bob", True, b.email, "O3 spelling; alias organizer", organizer=sam_alias,
             attendees=[sam_alias, b]),
        Case("Carol / Sam", True, c.email, "owner listed under two aliases",
             organizer=sam, attendees=[sam, sam_alias, c]),
        Case("Sam / Dana", True, dana.email, "owner is attendee: manager's 1:1 with them",
             organizer=dana, attendees=[dana, sam.but(partstat="ACCEPTED")]),
        Case("Dana <> Sam 1:1", True, dana.email, "owner attendee via old-domain alias",
             organizer=dana, attendees=[dana, sam_old], minutes=45,
             rrule="FREQ=WEEKLY;INTERVAL=2;BYDAY=FR"),
        Case("1:1 Alice / Sam", True, a.email, "organizer is a secondary calendar",
             organizer=P("c_8a1b2c3d4e5f60718293a4b5c6d7e8f9@group.calendar.google.com",
                         "Sam - 1:1s"), attendees=[sam, a]),
        Case("Bob / Sam", True, b.email, "EA organized and declined herself",
             organizer=olivia, attendees=[olivia.but(partstat="DECLINED"), sam, b]),
        Case("Elena / Sam", True, e.email, "EA organized, not listed as attendee",
             organizer=olivia, attendees=[sam, e]),
        mine("1:1 Farid / Sam", f, note="one instance declined by owner",
             overrides=[(2, {"attendees": [sam.but(partstat="DECLINED"), f], "sequence": 1})]),
        mine("Grace / Sam", g, note="one instance moved, one cancelled",
             overrides=[(1, {"shift": 2}), (3, {"status": "CANCELLED"})]),
        mine("Hugo <> Sam", h, note="EXDATE'd series", exdates=[1, 2, 5]),
        mine("1:1 Inês / Sam", i, note="one instance with a guest",
             overrides=[(4, {"attendees": [sam, i, c]})]),
        mine("Jamal / Sam", j.but(role="OPT-PARTICIPANT"), note="other person optional"),
        mine("Mentoring", P("tom.baker@gmail.com", "Tom Baker"),
             note="external mentor", rrule="FREQ=MONTHLY;BYMONTHDAY=15", minutes=60),
        mine("Coaching session", P("miriam@coaching-partners.example", "Miriam Hale"),
             note="external coach", rrule="FREQ=WEEKLY;INTERVAL=2", minutes=50),
        mine("Alice / Sam", a, note="attendee declined a different person", extra=[
            c.but(partstat="DECLINED")]),
        mine("Career conversation", P(None, "Nora (intern)"),
             label=True, note="attendee without email (invalid:nomail)"),
        mine("Weekly 1:1 Dev / Sam", d, note="marked free", transp="TRANSPARENT"),
        mine("Lunch with Kai", P("kai.berg@acme.io", "Kai Berg"),
             note="recurring lunch with one person", rrule="FREQ=MONTHLY;BYDAY=2FR", minutes=60),
        mine("Interview prep with Lena", P("lena.vogel@acme.io", "Lena Vogel"),
             note="coaching a report for interviews: a 1:1 despite the word"),
        mine("Alice / Sam (90 min deep dive)", a, note="exactly 90 minutes",
             minutes=90, rrule="FREQ=MONTHLY;BYDAY=-1TH"),
        mine("1:1 Carol / Sam", c, note="ended series (UNTIL in the past)",
             rrule="FREQ=WEEKLY;UNTIL=20260301T090000Z"),
        mine(None, P("kai.berg@acme.io", "Kai Berg"), note="no SUMMARY at all"),
        # Google splits a series changed "this and following": the old part ends (UNTIL), the
        # new part gets the old UID plus _R<start>.
        mine("1:1 Hugo / Sam", h, note="split series, old part",
             uid="3pt0e5n2b7c1q9r8s6u4v2m0ka@google.com",
             rrule="FREQ=WEEKLY;UNTIL=20260225T225959Z;BYDAY=WE"),
        mine("1:1 Hugo / Sam", h, note="split series, new part (_R uid)",
             uid="3pt0e5n2b7c1q9r8s6u4v2m0ka_R20260304T130000@google.com",
             rrule="FREQ=WEEKLY;BYDAY=WE", start=(2026, 3, 4, 13, 0), minutes=45),
        Case("1:1 Alice / Sam (moved from Monday)", False, "-", "one-off rescheduled 1:1",
             organizer=sam, attendees=[sam, a], rrule=None),
        Case("Farewell drinks for Bob", False, "-", "one-off social", organizer=c,
             attendees=[c, sam, a, b, d, e], rrule=None, minutes=120),
        Case("Coffee with Priyanka (candidate)", False, "-", "one-off candidate coffee",
             organizer=sam, attendees=[sam, P("priyanka.rao@gmail.com", "Priyanka Rao")],
             rrule=None),
        mine("Weekly 1:1", g.but(cutype="UNKNOWN"), note="attendee CUTYPE=UNKNOWN"),
        mine("Onboarding check-in: Kai", P("kai.berg@acme.io", "Kai Berg"),
             note="daily for two weeks (COUNT=10)",
             rrule="FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR;COUNT=10", minutes=20),
        Case("Block: 1:1 prep", False, "-", "prep block, no attendees", organizer=sam,
             attendees=[], rrule="FREQ=WEEKLY;BYDAY=MO", minutes=30),
        # Not 1:1s.
        Case("1:1 Alice / Sam", False, "-", "looks like a 1:1 but has 3 people",
             organizer=sam, attendees=[sam, a, c]),
        Case("Platform weekly", False, "-", "team meeting", organizer=sam,
             attendees=[sam, a, b, c, d, e, room], minutes=60),
        Case("Platform standup", False, "-", "daily standup, many people", organizer=a,
             attendees=[a, sam, b, c, d], rrule="FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR",
             minutes=15),
        Case("Standup", False, "-", "2-person standup", organizer=sam, attendees=[sam, b],
             rrule="FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR", minutes=15),
        Case("Interview: Priyanka Rao (Backend, onsite 1/4)", False, "-",
             "interview loop, one-off", organizer=ppl["recruiting"],
             attendees=[sam, P("priyanka.rao@gmail.com", "Priyanka Rao")], rrule=None,
             minutes=45),
        Case("Interview: Priyanka Rao (Backend, onsite 2/4)", False, "-",
             "interview loop, one-off", organizer=ppl["recruiting"],
             attendees=[a, P("priyanka.rao@gmail.com", "Priyanka Rao")], rrule=None,
             minutes=45),
        Case("Hiring sync", False, "-", "recurring hiring meeting, 3 people",
             organizer=ppl["recruiting"], attendees=[ppl["recruiting"], sam, dana]),
        Case("Candidate debrief", False, "-", "2-person recurring debrief slot",
             organizer=ppl["recruiting"], attendees=[ppl["recruiting"], sam]),
        Case("Focus time", False, "-", "busy block, no one else", organizer=sam,
             attendees=[], rrule="FREQ=WEEKLY;BYDAY=WE", minutes=120),
        Case("Hold", False, "-", "transparent hold", organizer=sam, attendees=[],
             transp="TRANSPARENT", minutes=60),
        Case("OOO Fridays", False, "-", "out-of-office notice sent to manager",
             organizer=sam, attendees=[sam, dana], rrule="FREQ=WEEKLY;BYDAY=FR",
             minutes=480),
        Case("Company all-hands", False, "-", "all-hands via group", organizer=dana,
             attendees=[P("everyone@acme.io", "Everyone", cutype="GROUP"), sam],
             rrule="FREQ=MONTHLY;BYDAY=1TH", minutes=60),
        Case("Platform lunch", False, "-", "lunch with a group", organizer=a,
             attendees=[a, sam, team], minutes=60),
        Case("1:1 Bob / Sam", False, "-", "owner declined the series", organizer=b,
             attendees=[b, sam.but(partstat="DECLINED")]),
        Case("Carol / Sam", False, "-", "cancelled series", organizer=sam,
             attendees=[sam, c], status="CANCELLED"),
        Case("1:1 Dev / Sam", False, "-", "one-off 1:1", organizer=sam, attendees=[sam, d],
             rrule=None),
        Case("Sprint retro", False, "-", "retro", organizer=e, attendees=[e, sam, a, b],
             rrule="FREQ=WEEKLY;INTERVAL=2;BYDAY=FR", minutes=60),
        Case("Security training", False, "-", "training", organizer=dana,
             attendees=[dana, sam, a, b, c], rrule="FREQ=YEARLY", minutes=60),
        Case("Quarterly planning Alice / Sam", False, "-", "2 people but 3 hours",
             organizer=sam, attendees=[sam, a], rrule="FREQ=MONTHLY;INTERVAL=3", minutes=180),
        Case("Deep work", False, "-", "owner and a room only", organizer=sam,
             attendees=[sam, room]),
        Case("Admin", False, "-", "owner and own alias only", organizer=sam,
             attendees=[sam, sam_alias]),
        Case("Dana / Bob", False, "-", "a meeting the owner is not in (shared calendar)",
             organizer=dana, attendees=[dana, b]),
        Case("Offsite day", False, "-", "all-day recurring with one person", organizer=sam,
             attendees=[sam, a], allday=True, rrule="FREQ=MONTHLY;BYDAY=1MO"),
        Case("Gym", False, "-", "private block, no attendees", organizer=None,
             attendees=[], transp="TRANSPARENT", rrule="FREQ=WEEKLY;BYDAY=MO,WE",
             minutes=60),
        Case("Alice / Sam", False, "-", "recurrence with COUNT=1", organizer=sam,
             attendees=[sam, a], rrule="FREQ=WEEKLY;COUNT=1"),
        Case("Office hours", False, "-", "open office hours booked by one person",
             organizer=sam, attendees=[sam, f]),
        Case("Pairing: billing migration", False, "-", "pair programming, 2 people",
             organizer=h, attendees=[h, sam], rrule="FREQ=WEEKLY;BYDAY=TU,TH", minutes=90),
        Case("Berlin eng lunch", False, "-", "group address without CUTYPE or group word",
             organizer=sam, attendees=[sam, P("eng-berlin@acme.io", "Eng Berlin")],
             minutes=60),
        Case("1:1 Alice / Sam", False, "-", "other person declined the whole series",
             organizer=sam, attendees=[sam, a.but(partstat="DECLINED")]),
        Case("Platform weekly (sync)", False, "-", "team group invited with one person",
             organizer=sam, attendees=[sam, a, team]),
    ]


def outlook_cases():
    maria = P("maria.garcia@contoso.com", "Garcia, Maria")
    alias = P("mgarcia@contoso.com", "Garcia, Maria")
    ppl = [P(f"{u}@contoso.com", n) for u, n in [
        ("wei.chen", "Chen, Wei"), ("james.oconnor", "O'Connor, James"),
        ("fatima.zahra", "Zahra, Fatima"), ("lukas.novak", "Novak, Lukas"),
        ("sofia.rossi", "Rossi, Sofia"), ("arjun.mehta", "Mehta, Arjun"),
        ("emma.johansson", "Johansson, Emma"), ("noah.kim", "Kim, Noah"),
        ("chloe.martin", "Martin, Chloé"), ("diego.fernandez", "Fernández, Diego")]]
    w, jm, fz, ln, sr, am, ej, nk, cm, df = ppl
    boss = P("robert.hughes@contoso.com", "Hughes, Robert")
    room = P("confrainier@contoso.com", "Conf Room Rainier (12)", cutype="RESOURCE",
             role="NON-PARTICIPANT")
    room2 = P("room.madrid.4b@contoso.com", "Madrid 4B", cutype=None, role="NON-PARTICIPANT")
    dl = P("emea-sales-leads@contoso.com", "EMEA Sales Leads", cutype="GROUP")
    teams = "Microsoft Teams Meeting"

    def mine(title, other, label=True, note="", extra=(), **kw):
        # Outlook does not list the organizer among the attendees.
        return Case(title, label, (other.email or other.name) if label else "-", note, organizer=maria,
                    attendees=[other, *extra], location=teams, **kw)

    return [
        mine("Maria / Wei", w, note="organizer not listed as attendee"),
        mine("1:1 Maria & James", jm, note="apostrophe name, &", rrule="FREQ=WEEKLY;BYDAY=TU;WKST=SU"),
        mine("Fatima <> Maria", fz, note="name pair", rrule="FREQ=WEEKLY;INTERVAL=2;BYDAY=WE;WKST=SU"),
        mine("Reunión individual Lukas", ln, note="Spanish"),
        mine("Sofia - Maria weekly", sr, note="hyphen pair", extra=[room]),
        mine("Arjun 1:1", am, note="1:1 suffix", minutes=45),
        mine("Check in", ej, note="no title signal", rrule="FREQ=WEEKLY;INTERVAL=2;BYDAY=FR;WKST=SU"),
        mine("Noah | Maria", nk, note="pipe pair", extra=[room2]),
        mine("Point individuel Chloé", cm, note="French"),
        mine("Weekly sync", df, note="no title signal", minutes=25),
        mine("One on one - Wei", w, note="one on one, exdates", exdates=[2, 3]),
        mine("Maria/James", jm, note="one instance moved",
             overrides=[(2, {"shift": 3, "sequence": 2})]),
        Case("Robert / Maria", True, boss.email, "owner attendee; her manager's 1:1",
             organizer=boss, attendees=[maria], location=teams),
        Case("Skip-level: Maria / Robert", True, boss.email, "owner attendee via alias",
             organizer=boss, attendees=[alias], minutes=60, rrule="FREQ=MONTHLY;BYDAY=2MO",
             location=teams),
        mine("Touchbase", P("k.wong@fabrikam.example", "Kevin Wong (Fabrikam)"),
             note="external contractor", rrule="FREQ=WEEKLY;INTERVAL=2"),
        mine("1:1 Maria / Sofia", sr, note="organizer listed as attendee too",
             extra=[maria]),
        mine("Emma 1-1", ej, note="one instance cancelled",
             overrides=[(1, {"status": "CANCELLED", "sequence": 1})]),
        mine("Arjun / Maria", am, note="rdate-only extra dates plus rule", rdates=[1]),
        Case("Noah x Maria", True, nk.email, "owner attendee, declined one instance",
             organizer=nk, attendees=[maria.but(partstat="ACCEPTED")], location=teams,
             overrides=[(3, {"attendees": [maria.but(partstat="DECLINED")], "sequence": 1})]),
        # Not 1:1s.
        Case("Sales pipeline review", False, "-", "team review", organizer=maria,
             attendees=[w, jm, fz, ln, room], minutes=60, location=teams),
        Case("Maria / Wei / Fatima", False, "-", "three names, three people",
             organizer=maria, attendees=[w, fz], location=teams),
        Case("1:1 Maria / Lukas", False, "-", "1:1 title, 3 people (boss joins)",
             organizer=maria, attendees=[ln, boss], location=teams),
        Case("EMEA leads", False, "-", "distribution list", organizer=maria,
             attendees=[dl], minutes=60, location=teams),
        Case("Out of office", False, "-", "Outlook OOF block", organizer=maria,
             attendees=[], rrule="FREQ=WEEKLY;BYDAY=FR;WKST=SU", minutes=240,
             xprops=["X-MICROSOFT-CDO-BUSYSTATUS:OOF"]),
        Case("Commute", False, "-", "free block", organizer=None, attendees=[],
             transp="TRANSPARENT", rrule="FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR;WKST=SU"),
        Case("Interview - Senior AE", False, "-", "interview, one-off", organizer=boss,
             attendees=[maria, P("c.ortega@outlook.com", "Carlos Ortega")], rrule=None,
             minutes=60, location=teams),
        Case("Phone screen slot", False, "-", "recurring phone-screen slot, 2 people",
             organizer=maria, attendees=[P("talent@contoso.com", "Talent Acquisition")],
             location=teams),
        Case("Maria / Sofia", False, "-", "cancelled series", organizer=maria,
             attendees=[sr], status="CANCELLED", location=teams),
        Case("Customer QBR prep", False, "-", "one-off with one colleague", organizer=maria,
             attendees=[w], rrule=None, location=teams),
        Case("Weekly forecast", False, "-", "4 people", organizer=boss,
             attendees=[maria, am, ej, nk], minutes=45, location=teams),
        Case("Robert / Maria", False, "-", "owner declined her manager's series",
             organizer=boss, attendees=[maria.but(partstat="DECLINED")], location=teams),
        Case("Team lunch", False, "-", "lunch with a group", organizer=maria,
             attendees=[w, jm, fz, ln, sr], minutes=60, rrule="FREQ=MONTHLY;BYDAY=-1FR"),
        Case("Madrid 4B booked", False, "-", "room only (no CUTYPE)", organizer=maria,
             attendees=[room2]),
        Case("Planning day", False, "-", "all-day", organizer=maria, attendees=[w],
             allday=True, rrule="FREQ=MONTHLY;BYDAY=1MO"),
        Case("Wei / Fatima", False, "-", "owner only FYI'd (NON-PARTICIPANT) on others' 1:1",
             organizer=w, attendees=[fz, maria.but(role="NON-PARTICIPANT")], location=teams),
    ]


def icloud_cases():
    kenji = P("kenji@example.jp", "佐藤 健二")
    kenji2 = P("kenji.sato@icloud.com", "Kenji Sato")
    ppl = [P(f"{u}@example.jp", n) for u, n in [
        ("aiko.tanaka", "田中 愛子"), ("haruto.suzuki", "Haruto Suzuki"),
        ("yui.takahashi", "Yui Takahashi"), ("ren.watanabe", "渡辺 蓮"),
        ("mei.ito", "Mei Ito"), ("sota.yamamoto", "Sota Yamamoto"),
        ("hina.nakamura", "中村 陽菜"), ("riku.kobayashi", "Riku Kobayashi")]]
    at, hs, yt, rw, mi, sy, hn, rk = ppl
    boss = P("takeshi.mori@example.jp", "森 武")
    room = P("kaigi-3f@example.jp", "会議室 3F", cutype="ROOM")

    def mine(title, other, label=True, note="", extra=(), **kw):
        return Case(title, label, (other.email or other.name) if label else "-", note, organizer=kenji,
                    attendees=[kenji.but(role="CHAIR"), other.but(partstat="NEEDS-ACTION"),
                               *extra], **kw)

    return [
        mine("1on1 愛子 / 健二", at, note="Japanese 1on1"),
        mine("Haruto 1on1", hs, note="1on1"),
        mine("面談 Yui", yt, note="Japanese 面談", minutes=60,
             rrule="FREQ=MONTHLY;BYDAY=3TH"),
        mine("1対1", rw, note="Japanese 1対1 (kanji variant)"),
        mine("1对1 Mei", mi, note="Chinese 1对1"),
        mine("Sota / Kenji", sy, note="pair", rrule="FREQ=WEEKLY;INTERVAL=2"),
        mine("ワンオンワン 陽菜", hn, note="katakana"),
        mine("Weekly chat", rk, note="no title signal"),
        mine("1on1 Aiko", at.but(email_param=True),
             note="attendee address is urn:uuid with EMAIL param"),
        mine("1on1 Haruto", hs, note="rdate series", rrule=None, rdates=[2, 4, 6]),
        Case("Kenji / 森", True, boss.email, "owner attendee", organizer=boss,
             attendees=[boss.but(role="CHAIR"), kenji2], minutes=45),
        mine("Mei x Kenji", mi, note="room attendee", extra=[room]),
        # Not 1:1s.
        Case("1on1 Yui / Kenji", False, "-", "1on1 title, 3 people", organizer=kenji,
             attendees=[kenji, yt, rw]),
        Case("朝会", False, "-", "morning team meeting (Japanese), many people",
             organizer=kenji, attendees=[kenji, at, hs, yt, rw, mi],
             rrule="FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR", minutes=15),
        Case("Design review", False, "-", "4 people", organizer=sy,
             attendees=[sy, kenji, hn, rk], minutes=60),
        Case("Retro", False, "-", "2-person retro", organizer=kenji, attendees=[kenji, rk],
             rrule="FREQ=WEEKLY;INTERVAL=2", minutes=45),
        Case("Dentist", False, "-", "private appointment, no attendees", organizer=None,
             attendees=[], rrule="FREQ=MONTHLY;INTERVAL=6"),
        Case("1on1 Ren", False, "-", "one-off", organizer=kenji, attendees=[kenji, rw],
             rrule=None),
        Case("面談 Hina", False, "-", "owner declined", organizer=hn,
             attendees=[hn, kenji.but(partstat="DECLINED")]),
        Case("Sota / Kenji", False, "-", "cancelled series", organizer=kenji,
             attendees=[kenji, sy], status="CANCELLED"),
        Case("勉強会", False, "-", "study group via group address", organizer=kenji,
             attendees=[kenji, P("eng-all@example.jp", "Engineering", cutype="GROUP")],
             minutes=60),
        Case("Kenji 1on1 prep", False, "-", "prep block, owner and own alias",
             organizer=kenji, attendees=[kenji, kenji2]),
    ]


def nextcloud_cases():
    lea = P("lea.mueller@firma.de", "Lea Müller")
    lea2 = P("lea@firma.de", "Lea Müller")
    ppl = [P(f"{u}@firma.de", n) for u, n in [
        ("jonas.weber", "Jonas Weber"), ("anna.schmidt", "Anna Schmidt"),
        ("felix.wagner", "Felix Wagner"), ("marie.dubois", "Marie Dubois"),
        ("paul.becker", "Paul Becker"), ("sophie.hoffmann", "Sophie Hoffmann"),
        ("luca.ferrari", "Luca Ferrari"), ("emma.meyer", "Emma Meyer"),
        ("noah.schulz", "Noah Schulz"), ("mia.koch", "Mia Koch")]]
    jw, asm, fw, md, pb, sh, lf, em, ns, mk = ppl
    boss = P("thomas.klein@firma.de", "Thomas Klein")
    raum = P("raum-2og@firma.de", "Besprechungsraum 2.OG", cutype="ROOM",
             role="NON-PARTICIPANT")
    beamer = P("beamer-1@firma.de", "Beamer 1", cutype="RESOURCE")
    gruppe = P("entwicklung@firma.de", "Entwicklung", cutype="GROUP")

    def mine(title, other, label=True, note="", extra=(), **kw):
        return Case(title, label, (other.email or other.name) if label else "-", note, organizer=lea,
                    attendees=[other.but(partstat="NEEDS-ACTION"), *extra], **kw)

    return [
        mine("Jour fixe Lea / Jonas", jw, note="German Jour fixe", extra=[raum]),
        mine("Einzelgespräch Anna", asm, note="German Einzelgespräch", minutes=60,
             rrule="FREQ=MONTHLY;BYDAY=2TU"),
        mine("Tête-à-tête Marie / Léa", md, note="French tête-à-tête"),
        mine("Felix + Lea", fw, note="plus pair"),
        mine("Mitarbeitergespräch Paul", pb, note="German appraisal talk",
             rrule="FREQ=MONTHLY;INTERVAL=3", minutes=90),
        mine("Wochenabstimmung", sh, note="German 'weekly alignment', no 1:1 word"),
        mine("Luca / Lea", lf, note="pair with a beamer resource", extra=[beamer]),
        mine("Één-op-één Emma", em, note="Dutch"),
        mine("Austausch", P(None, "Noah Schulz"), note="CN-only attendee (no address)"),
        mine("Lea & Mia", mk, note="EXDATE'd around holidays", exdates=[0, 1]),
        mine("Jour fixe Jonas", jw, note="override drops the room and moves",
             overrides=[(2, {"attendees": [jw], "shift": 1})]),
        mine("1:1 Anna", asm, note="Anna accepted", rrule="FREQ=WEEKLY;BYDAY=MO,TH"),
        Case("Thomas / Lea", True, boss.email, "owner attendee, organizer listed again",
             organizer=boss, attendees=[boss, lea], minutes=45),
        Case("Jour fixe Thomas / Lea", True, boss.email, "no ORGANIZER (Thunderbird local)",
             organizer=None, attendees=[boss]),
        mine("Einzelgespräch Felix", fw, note="only instances visible (no master)",
             no_master=True, overrides=[(0, {}), (1, {})]),
        # Not 1:1s.
        Case("Jour fixe Entwicklung", False, "-", "Jour fixe with a group", organizer=lea,
             attendees=[gruppe, raum], minutes=60),
        Case("Jour fixe Lea / Jonas / Anna", False, "-", "3 people", organizer=lea,
             attendees=[jw, asm]),
        Case("Daily Stand-up", False, "-", "standup, many", organizer=lea,
             attendees=[jw, asm, fw, md, pb], rrule="FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR",
             minutes=15),
        Case("Schulung Datenschutz", False, "-", "training, German, 6 people", organizer=boss,
             attendees=[boss, lea, jw, asm, fw, md], rrule="FREQ=YEARLY", minutes=120),
        Case("Urlaub", False, "-", "vacation block, all-day", organizer=None, attendees=[],
             allday=True, rrule="FREQ=YEARLY"),
        Case("Einzelgespräch Paul", False, "-", "owner declined the series", organizer=pb,
             attendees=[pb, lea.but(partstat="DECLINED")]),
        Case("Mentoring-Kreis", False, "-", "mentoring circle via group", organizer=lea,
             attendees=[P("mentoring@firma.de", "Mentoring-Kreis", cutype="GROUP"), raum],
             rrule="FREQ=MONTHLY;BYDAY=1WE", minutes=60),
        Case("Tête-à-tête Marie / Léa", False, "-", "cancelled", organizer=lea,
             attendees=[md], status="CANCELLED"),
        Case("Vorstellungsgespräch Backend", False, "-", "interview, one-off", organizer=lea,
             attendees=[P("bewerber@gmx.example", "M. Bewerber")], rrule=None),
        Case("Raum geblockt", False, "-", "room and own alias only", organizer=lea,
             attendees=[lea2, raum]),
        Case("Klausur Führungskreis", False, "-", "2 people, 4 hours", organizer=boss,
             attendees=[boss, lea], minutes=240, rrule="FREQ=MONTHLY;INTERVAL=6"),
        Case("Retro Team Nord", False, "-", "retro", organizer=lea,
             attendees=[jw, asm, fw], minutes=60, rrule="FREQ=WEEKLY;INTERVAL=2"),
        Case("Jonas / Anna", False, "-", "owner not in it", organizer=jw,
             attendees=[jw, asm]),
    ]


def fastmail_cases():
    priya = P("priya@fastmail.example", "Priya Nair")
    priya2 = P("p.nair@startup.example", "Priya Nair")
    ppl = [P(f"{u}@startup.example", n) for u, n in [
        ("oscar", "Oscar Lindqvist"), ("zoe", "Zoe Clarke"), ("ben", "Ben Okafor"),
        ("lucia", "Lucía Gómez"), ("ravi", "Ravi Shankar"), ("amara", "Amara Obi"),
        ("tyler", "Tyler Ross"), ("hannah", "Hannah Levi"), ("ivan", "Ivan Petrov"),
        ("sara", "Sara Holm")]]
    oscar, zoe, ben, lucia, ravi, amara, tyler, hannah, ivan, sara = ppl
    ceo = P("mark@startup.example", "Mark Evans")
    board = P("board@startup.example", "Board", cutype="GROUP")

    def mine(title, other, label=True, note="", extra=(), **kw):
        return Case(title, label, (other.email or other.name) if label else "-", note, organizer=priya2,
                    attendees=[priya2, other, *extra], **kw)

    return [
        mine("Oscar / Priya", oscar, note="pair"),
        mine("Zoe <> Priya", zoe, note="pair <>", rrule="FREQ=WEEKLY;INTERVAL=2;BYDAY=WE"),
        mine("1:1 Ben", ben, note="1:1 prefix"),
        mine("Lucía / Priya", lucia, note="accented pair", minutes=45),
        mine("Weekly 1-1 Ravi", ravi, note="1-1"),
        mine("Amara catch up", amara, note="no title signal"),
        mine("Tyler & Priya", tyler, note="pair &", rrule="FREQ=WEEKLY;BYDAY=FR"),
        mine("one-to-one Hannah", hannah, note="one-to-one spelling"),
        mine("Ivan / Priya", ivan, note="organizer address is the personal alias",
             minutes=50),
        mine("Sara 1:1s", sara, note="plural 1:1s"),
        mine("Priya / Zoe", P("Zoe@Startup.Example", "Zoe Clarke"),
             note="mixed-case address in the file"),
        Case("Support queue review", False, "-", "owner and a shared support mailbox",
             organizer=priya2, attendees=[priya2, P("support@startup.example", "Support")],
             rrule="FREQ=WEEKLY;BYDAY=MO"),
        mine("Skip level - Priya & Oscar's report", P("jin@startup.example", "Jin Park"),
             note="skip level with one person"),
        Case("Investor update: Northwind", False, "-", "two external guests", organizer=priya2,
             attendees=[priya2, P("li.wei@northwind.vc", "Li Wei"),
                        P("ana.souza@northwind.vc", "Ana Souza")],
             rrule="FREQ=MONTHLY;BYDAY=1TU", minutes=45),
        Case("Mark / Priya", True, ceo.email, "owner attendee via fastmail address",
             organizer=ceo, attendees=[ceo, priya.but(partstat="ACCEPTED")], minutes=60),
        Case("Board prep: Mark / Priya", True, ceo.email, "owner attendee, needs-action",
             organizer=ceo, attendees=[ceo, priya2.but(partstat="NEEDS-ACTION")],
             rrule="FREQ=MONTHLY;BYDAY=-1TU", minutes=60),
        mine("Oscar / Priya", oscar, note="series with many overrides",
             overrides=[(1, {"shift": 1}), (2, {"shift": -1}), (4, {"status": "CANCELLED"}),
                        (5, {"attendees": [priya2, oscar, zoe]})]),
        mine("Ben / Priya", ben.but(partstat="TENTATIVE"),
             note="the other person only tentatively", rrule="FREQ=WEEKLY;INTERVAL=2"),
        # Not 1:1s.
        Case("Leadership sync", False, "-", "5 people", organizer=ceo,
             attendees=[ceo, priya2, P("cfo@startup.example", "Nina Cole"), oscar, zoe],
             minutes=60),
        Case("Board meeting", False, "-", "group", organizer=ceo, attendees=[ceo, priya2, board],
             rrule="FREQ=MONTHLY;INTERVAL=3", minutes=180),
        Case("Ravi / Priya", False, "-", "one-off", organizer=priya2, attendees=[priya2, ravi],
             rrule=None),
        Case("Amara / Priya", False, "-", "owner declined", organizer=amara,
             attendees=[amara, priya2.but(partstat="DECLINED")]),
        Case("1:1 Tyler / Priya", False, "-", "1:1 title, 3 people", organizer=priya2,
             attendees=[priya2, tyler, hannah]),
        Case("Demo day", False, "-", "demo day, 2 people", organizer=ivan,
             attendees=[ivan, priya2], rrule="FREQ=MONTHLY;BYDAY=-1FR", minutes=60),
        Case("Blocker: school run", False, "-", "busy block", organizer=priya2,
             attendees=[priya2], rrule="FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR"),
        Case("Hold for investor calls", False, "-", "hold with assistant",
             organizer=priya2, attendees=[priya2, P("ea@startup.example", "Kim Ward")],
             rrule="FREQ=WEEKLY;BYDAY=TH", minutes=60),
        Case("Sara / Priya", False, "-", "cancelled", organizer=priya2,
             attendees=[priya2, sara], status="CANCELLED"),
        Case("Interview loop: Staff Eng", False, "-", "recurring interview slot, 2 people",
             organizer=P("recruiting@startup.example", "Recruiting"),
             attendees=[priya2, P("recruiting@startup.example", "Recruiting")]),
        # AI notetakers invited as attendees (appended last so the cases above keep their
        # UIDs): a bot is not a person, whether known by its domain or by its display name.
        mine("1:1 Tyler / Priya", tyler, note="notetaker fred@fireflies.ai invited",
             extra=[P("fred@fireflies.ai", "Fireflies.ai Notetaker")], minutes=45),
        mine("Sara / Priya", sara, note="Otter notetaker and a room (CUTYPE=ROOM)",
             extra=[P("assistant@otter.ai", "Otter.ai"),
                    P("fishbowl@startup.example", "Fishbowl", cutype="ROOM")]),
        mine("Weekly check-in", ivan, note="Read notetaker and a room without CUTYPE",
             extra=[P("executive-assistant@read.ai", "Read.ai meeting notes"),
                    P("room.aurora@startup.example", "Aurora room")]),
        mine("Hannah <> Priya", hannah, note="bot known only by its name",
             extra=[P("rec-5521@meetbots.example", "Notetaker (Fathom)")]),
        mine("Ben / Priya", ben, note="two notetakers, one tentative",
             extra=[P("fred@fireflies.ai", "Fireflies.ai Notetaker"),
                    P("recorder@tldv.io", "tl;dv", partstat="TENTATIVE")]),
        Case("Product sync", False, "-", "3 people and a notetaker", organizer=priya2,
             attendees=[priya2, oscar, zoe, P("fred@fireflies.ai", "Fireflies.ai Notetaker")]),
        Case("Focus block (recorded)", False, "-", "owner and a notetaker only",
             organizer=priya2,
             attendees=[priya2, P("fred@fireflies.ai", "Fireflies.ai Notetaker")]),
    ]


def main():
    labels = []
    Google(["sam@acme.io", "sam.lee@acme.io"]).render(google_cases(), labels, "google-sam.ics")
    Outlook(["maria.garcia@contoso.com", "mgarcia@contoso.com"]).render(
        outlook_cases(), labels, "outlook-maria.ics")
    ICloud(["kenji@example.jp", "kenji.sato@icloud.com"]).render(
        icloud_cases(), labels, "icloud-kenji.ics")
    Nextcloud(["lea.mueller@firma.de", "lea@firma.de"]).render(
        nextcloud_cases(), labels, "nextcloud-lea.ics")
    Fastmail(["priya@fastmail.example", "p.nair@startup.example"]).render(
        fastmail_cases(), labels, "fastmail-priya.ics")
    with open(os.path.join(HERE, "labels.tsv"), "w", encoding="utf-8", newline="\n") as f:
        f.write("# file\tuid\tone_on_one\twith\towner\tnote\n")
        for row in labels:
            f.write("\t".join(row) + "\n")
    pos = sum(1 for r in labels if r[2] == "true")
    print(f"{len(labels)} series, {pos} labeled 1:1, {len(labels) - pos} not")


if __name__ == "__main__":
    main()
