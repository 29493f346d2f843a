#!/usr/bin/env python3
"""The benchmark run behind `scripts/bench`: every figure of BENCHMARKS.md, measured in one run on
this machine, beside the peers (vdirsyncer, Python caldav, Python icalendar).

Sections (each can be chosen with --only NAME[,NAME]):
  import   first import of a 10,000-event calendar on a local Radicale: our connect + first pass
           beside `vdirsyncer sync` to a local folder and Python caldav fetching every event
  idle     requests per calendar for an idle pass and per changed 1:1 (from `sync_runs`)
  sabre    the same on sabre/dav 1.8 (no sync-collection: ctag, etag listing, multiget), Basic
           and Digest, with the server's CPU time for the idle pass (`php -S`, scripts/setup-php)
  scale    N accounts x 100 events on one Radicale, one steady-state pass, SQLite and PostgreSQL;
           and the Google test server (`cargo test --release bench_google -- --ignored`) when present
  hot      criterion hot paths (parse, expand, detect, render, parse back) and the parser ratio
           to Python icalendar (scripts/bench-ics)
  memory   peak RSS of `connect` and `sync --once` over a calendar holding a 1:1 whose description
           is 10 MB (and 30 MB), beside a normal 1:1; and of `sync --once` against a hostile
           server answering 66 MB of empty XML elements; `--memory-key memory_before` with
           ONEONONE_BENCH_BIN=<an older build> records the figures shown as "before"

Process figures come from `/usr/bin/time -f` (elapsed, user+system CPU, peak RSS); request and write
counts from the `sync_runs` table the daemon fills for `/metrics` and `/readyz`. The previous
BENCHMARKS.md's figures (kept in a JSON comment at its end) are compared: a change for the worse of
more than 20% is printed as a warning.
"""
import argparse
import datetime as dt
import json
import os
import pathlib
import platform
import random
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid

ROOT = pathlib.Path(__file__).resolve().parent.parent
TARGET = pathlib.Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
# ONEONONE_BENCH_BIN: another build to measure (a figure before a change).
BIN = pathlib.Path(os.environ.get("ONEONONE_BENCH_BIN", TARGET / "release" / "oneonone"))
VENV = ROOT / ".venv"
BENCH_VENV = pathlib.Path(os.environ.get("ONEONONE_BENCH_VENV", ROOT / ".venv-bench"))
NOW = dt.datetime(2026, 3, 2, 7, 0, tzinfo=dt.timezone.utc)  # a Monday morning
PASSWORD = "bench-secret"
DATA_MARK = "<!-- bench-data"


def log(msg):
    print(f"==> {msg}", file=sys.stderr, flush=True)


def rfc3339(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def timed(cmd, env=None, cwd=None, stdin=None, check=True):
    """Runs `cmd` under /usr/bin/time; returns (stdout, figures). Fails loudly on a non-zero exit
    unless `check` is false (the figures then carry `exit` and `stderr`)."""
    fmt = "BENCHTIME %e %U %S %M"
    full = ["/usr/bin/time", "-f", fmt] + [str(c) for c in cmd]
    p = subprocess.run(full, env=env, cwd=cwd, input=stdin, capture_output=True, text=True)
    if p.returncode != 0 and not check:
        line = [l for l in p.stderr.splitlines() if l.startswith("BENCHTIME ")][-1]
        wall, user, sys_, rss_kb = line.split()[1:]
        return p.stdout, {"wall_s": float(wall), "cpu_s": float(user) + float(sys_),
                          "rss_mb": int(rss_kb) / 1024, "exit": p.returncode,
                          "stderr": p.stderr}
    if p.returncode != 0:
        raise SystemExit(f"{' '.join(map(str, cmd))} failed ({p.returncode}):\n{p.stdout}\n{p.stderr}")
    line = [l for l in p.stderr.splitlines() if l.startswith("BENCHTIME ")][-1]
    wall, user, sys_, rss_kb = line.split()[1:]
    return p.stdout, {
        "wall_s": float(wall),
        "cpu_s": float(user) + float(sys_),
        "rss_mb": int(rss_kb) / 1024,
    }


# ---------------------------------------------------------------------------------------------
# Calendars written straight into Radicale's storage (uploading 10,000 events one PUT at a time
# would take minutes of Radicale's time and measure nothing of ours).

VTIMEZONE = """BEGIN:VTIMEZONE
TZID:Europe/Berlin
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


def vevent(uid, summary, start, minutes, owner, attendees, rule=None, description=None):
    end = start + dt.timedelta(minutes=minutes)
    lines = [
        "BEGIN:VEVENT",
        f"UID:{uid}",
        "DTSTAMP:20260101T120000Z",
        f"DTSTART;TZID=Europe/Berlin:{start:%Y%m%dT%H%M%S}",
        f"DTEND;TZID=Europe/Berlin:{end:%Y%m%dT%H%M%S}",
        f"SUMMARY:{summary}",
    ]
    if rule:
        lines.append(f"RRULE:{rule}")
    if attendees:
        lines.append(f"ORGANIZER;CN=Owner:mailto:{owner}")
        for a in [owner] + attendees:
            lines.append(f"ATTENDEE;CN={a.split('@')[0]};PARTSTAT=ACCEPTED:mailto:{a}")
    if description:
        lines.append(f"DESCRIPTION:{description}")
    lines.append("END:VEVENT")
    return "\r\n".join(lines)


def calendar_items(owner, events, one_on_ones, series, seed):
    """`events` resources: `series` recurring ones (the first `one_on_ones` of them 1:1s), the rest
    one-off meetings spread over a year. Returns [(name, ics text)]."""
    rng = random.Random(seed)
    items = []
    base = dt.datetime(2026, 1, 5, 8, 0)
    for i in range(events):
        uid = f"bench-{seed}-{i}@example.com"
        day = base + dt.timedelta(days=rng.randrange(0, 360 if i >= series else 14))
        start = day.replace(hour=8 + rng.randrange(0, 9), minute=rng.choice([0, 30]))
        if i < one_on_ones:
            ev = vevent(uid, f"1:1 Owner / Direct {i}", start, 30, owner,
                        [f"direct{i}@example.com"],
                        rule=rng.choice(["FREQ=WEEKLY", "FREQ=WEEKLY;INTERVAL=2"]),
                        description="Bring your topics.")
        elif i < series:
            kind = i % 3
            if kind == 0:
                ev = vevent(uid, f"Team sync {i}", start, 60, owner,
                            [f"p{i}-{k}@example.com" for k in range(5)], rule="FREQ=WEEKLY")
            elif kind == 1:
                ev = vevent(uid, f"Focus block {i}", start, 120, owner, [],
                            rule="FREQ=WEEKLY;BYDAY=TU,TH")
            else:
                ev = vevent(uid, f"Monthly review {i}", start, 45, owner,
                            [f"r{i}-{k}@example.com" for k in range(3)],
                            rule="FREQ=MONTHLY;BYDAY=1WE")
        else:
            ev = vevent(uid, f"Meeting {i}", start, 30, owner,
                        [f"guest{i}@example.com", f"other{i}@example.com"],
                        description="One-off meeting " + "lorem ipsum " * rng.randrange(1, 8))
        body = "\r\n".join(["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//oneonone bench//EN",
                            VTIMEZONE.replace("\n", "\r\n"), ev, "END:VCALENDAR", ""])
        items.append((f"{uid.split('@')[0]}.ics", body))
    return items


class Radicale:
    """A Radicale from the test venv, its users and calendars written into its storage folder."""

    def __init__(self, work, users):
        self.dir = pathlib.Path(work) / f"radicale-{uuid.uuid4().hex[:8]}"
        (self.dir / "collections" / "collection-root").mkdir(parents=True)
        (self.dir / "users").write_text("".join(f"{u}:{PASSWORD}\n" for u in users))
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}/"
        self.proc = None

    def add_calendar(self, user, name, items):
        col = self.dir / "collections" / "collection-root" / user / name
        col.mkdir(parents=True)
        (col / ".Radicale.props").write_text(json.dumps(
            {"tag": "VCALENDAR", "D:displayname": name, "C:supported-calendar-component-set": "VEVENT"}))
        for fname, body in items:
            (col / fname).write_text(body, newline="")
        return f"{self.base}{user}/{name}/"

    def copy_calendar(self, user, name, to):
        """A copy of a calendar, its item cache included (so a warmed calendar's copy is warm:
        Radicale keys that cache by file name and content)."""
        root = self.dir / "collections" / "collection-root" / user
        shutil.copytree(root / name, root / to, symlinks=True)
        props = root / to / ".Radicale.props"
        props.write_text(json.dumps(dict(json.loads(props.read_text()), **{"D:displayname": to})))
        return f"{self.base}{user}/{to}/"

    def start(self):
        self.proc = subprocess.Popen(
            [VENV / "bin/python", "-m", "radicale", "--config", "", "--server-hosts",
             f"127.0.0.1:{self.port}", "--auth-type", "htpasswd", "--auth-htpasswd-filename",
             self.dir / "users", "--auth-htpasswd-encryption", "plain", "--auth-delay", "0",
             "--storage-filesystem-folder", self.dir / "collections", "--logging-level", "warning"],
            stdout=subprocess.DEVNULL, stderr=open(self.dir / "log", "w"))
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                return self
            except OSError:
                time.sleep(0.05)
        raise SystemExit("Radicale did not start")

    def stop(self):
        if self.proc:
            self.proc.kill()
            self.proc.wait()


class Database:
    """A fresh SQLite file or PostgreSQL database for one measurement."""

    def __init__(self, work, dialect):
        self.dialect = dialect
        self.name = f"oneonone_bench_{uuid.uuid4().hex[:8]}"
        if dialect == "sqlite":
            self.path = pathlib.Path(work) / f"{self.name}.db"
            self.url = f"sqlite://{self.path}"
        else:
            base = os.environ.get("ONEONONE_TEST_POSTGRES_URL") or subprocess.run(
                [ROOT / "scripts/ensure-postgres"], capture_output=True, text=True, check=True
            ).stdout.strip()
            self.admin = base
            self.url = re.sub(r"/[^/]*$", f"/{self.name}", base)
            self.psql(f"CREATE DATABASE {self.name}")

    def psql(self, sql, url=None):
        return subprocess.run(["psql", "-qtA", url or self.admin, "-c", sql], check=True,
                              capture_output=True, text=True).stdout

    def query(self, sql):
        if self.dialect == "sqlite":
            con = sqlite3.connect(self.path)
            try:
                return con.execute(sql).fetchall()
            finally:
                con.close()
        out = self.psql(sql, self.url)
        return [tuple(line.split("|")) for line in out.strip().splitlines()]

    def drop(self):
        if self.dialect == "postgres":
            self.psql(f"DROP DATABASE IF EXISTS {self.name} WITH (FORCE)")


def daemon_env(work, db):
    env = dict(os.environ)
    env.update({
        "ONEONONE__DATABASE__URL": db.url,
        "ONEONONE__SECRETS__KEY_FILE": str(pathlib.Path(work) / "secret.key"),
        "ONEONONE__LOG__LEVEL": "warn",
        "ONEONONE__SYNC__CONCURRENCY": "8",
        # Radicale parses a 10,000-item collection slowly on its first read.
        "ONEONONE__SYNC__REQUEST_TIMEOUT_SECS": "600",
        "BENCH_PASSWORD": PASSWORD,
        "RUST_LOG": "warn",
    })
    return env


def connect(env, url, user, calendar, now=NOW):
    return timed([BIN, "connect", "caldav", "--url", url, "--username", user, "--password-env",
                  "BENCH_PASSWORD", "--calendar", calendar, "--owner", f"{user}@example.com",
                  "--now", rfc3339(now)], env=env)


def last_runs(db, n=1):
    rows = db.query("SELECT requests, writes FROM sync_runs WHERE account_id IS NOT NULL "
                    f"ORDER BY id DESC LIMIT {n}")
    return [(int(r), int(w)) for r, w in rows]


# ---------------------------------------------------------------------------------------------

def median_run(runs):
    """The run whose CPU time is the median of `runs` (an odd number), with every run's CPU."""
    chosen = dict(sorted(runs, key=lambda f: f["cpu_s"])[len(runs) // 2])
    chosen["cpu_runs"] = [f["cpu_s"] for f in runs]
    return chosen


def vdirsyncer_sync(work, url, k):
    """`vdirsyncer discover` + `sync` of `url` into a fresh local folder; returns the figures
    of both commands together and how many files it wrote."""
    vdir = pathlib.Path(work) / f"vdir{k}"
    (vdir / "local").mkdir(parents=True)
    cfg = pathlib.Path(work) / f"vdirsyncer{k}.conf"
    cfg.write_text(f"""[general]
status_path = "{vdir}/status/"

[pair bench]
a = "bench_remote"
b = "bench_local"
collections = null

[storage bench_remote]
type = "caldav"
url = "{url}"
username = "alice"
password = "{PASSWORD}"

[storage bench_local]
type = "filesystem"
path = "{vdir}/local/"
fileext = ".ics"
""")
    vbin = BENCH_VENV / "bin/vdirsyncer"
    _, disc = timed([vbin, "-c", cfg, "discover"], stdin="")
    _, vs = timed([vbin, "-c", cfg, "sync"])
    vs["cpu_s"] += disc["cpu_s"]
    vs["wall_s"] += disc["wall_s"]
    return vs, len(list((vdir / "local").glob("*.ics")))


def bench_import(work, results, runs):
    events, series, ones = 10_000, 500, 40
    log(f"first import: {events} events ({series} series, {ones} 1:1s) on Radicale, "
        f"{runs} runs of each tool")
    rad = Radicale(work, ["alice"])
    # One copy of the calendar per run of ours: each run imports a calendar nobody has written
    # to (the idle figures below write agendas into the last one). The peers only read: they run on
    # the first copy, which ours imports last.
    names = [f"work{k}" for k in range(runs)]
    url = rad.add_calendar("alice", names[0],
                           calendar_items("alice@example.com", events, ones, series, 1))
    rad.start()
    try:
        # Warm Radicale's own item cache, so no tool pays for the server's first parse; the
        # copies are made after, and share it.
        _, warm = timed([BENCH_VENV / "bin/python", ROOT / "tests/py/bench_caldav_fetch.py", url,
                         "alice", PASSWORD])
        log(f"  Radicale warm-up fetch: {warm['wall_s']:.1f} s")
        for name in names[1:]:
            rad.copy_calendar("alice", names[0], name)
        vs_runs, py_runs, our_runs = [], [], []
        # The tools take turns, so a slow spell of the shared machine falls on all three.
        for k in range(runs):
            vs, synced = vdirsyncer_sync(work, url, k)
            log(f"  vdirsyncer: {vs} ({synced} files)")
            vs_runs.append(vs)
            out, py = timed([BENCH_VENV / "bin/python", ROOT / "tests/py/bench_caldav_fetch.py",
                             url, "alice", PASSWORD])
            log(f"  python caldav: {py} ({out.strip()})")
            py_runs.append(py)
            db = Database(work, "sqlite")
            out, ours = connect(daemon_env(work, db), rad.base, "alice", names[(k + 1) % runs])
            found = int(re.search(r"(\d+) recurring 1:1", out).group(1))
            log(f"  oneonone: {ours} ({found} 1:1s found)")
            our_runs.append(ours)
        results["import"] = {"events": events, "series": series, "one_on_ones": ones,
                             "found": found, "runs": runs, "oneonone": median_run(our_runs),
                             "vdirsyncer": median_run(vs_runs), "vdirsyncer_files": synced,
                             "python_caldav": median_run(py_runs)}

        # Idle cost and the cost of one change, on the same account.
        env = daemon_env(work, db)
        later = NOW + dt.timedelta(minutes=5)
        # The first pass writes at most `sync.max_writes_per_pass` agendas: passes until every
        # upcoming 1:1 has its agenda, then the idle one.
        for _ in range(5):
            timed([BIN, "sync", "--once", "--now", rfc3339(later)], env=env)
            if last_runs(db)[0][1] == 0:
                break
        timed([BIN, "sync", "--once", "--now", rfc3339(later)], env=env)
        idle = last_runs(db)[0]
        changed_href = type_a_topic(rad, url)
        timed([BIN, "sync", "--once", "--now", rfc3339(later + dt.timedelta(minutes=5))], env=env)
        change = last_runs(db)[0]
        log(f"  idle pass: {idle[0]} requests, {idle[1]} writes; after a topic typed into "
            f"{changed_href}: {change[0]} requests, {change[1]} writes")
        results["idle_radicale"] = {"requests_per_calendar": idle[0], "writes": idle[1],
                                    "changed_one_on_one_requests": change[0],
                                    "changed_one_on_one_writes": change[1]}
        db.drop()
    finally:
        rad.stop()


def request(method, url, body=None, headers=None):
    import base64
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    token = base64.b64encode(f"alice:{PASSWORD}".encode()).decode()
    req.add_header("Authorization", f"Basic {token}")
    with urllib.request.urlopen(req) as r:
        return r.read().decode(), r.headers.get("ETag")


def type_a_topic(rad, cal_url):
    """Types a topic into the agenda block of one 1:1's next invite, as a person in a calendar
    client would (GET, edit the DESCRIPTION, PUT with If-Match). Returns the resource name."""
    sys.path.insert(0, str(BENCH_VENV))
    for i in range(40):
        href = f"{cal_url}bench-1-{i}.ics"
        text, etag = request("GET", href)
        if "oneonone agenda" not in text:
            continue
        unfolded = re.sub(r"\r\n[ \t]", "", text)
        marker = "Notes and action items\\n"
        edited = unfolded.replace(marker, marker + "- [ ] bench: a topic typed in the invite\\n", 1)
        assert edited != unfolded, "the agenda block has no notes area"
        request("PUT", href, edited.encode(), {"If-Match": etag,
                                               "Content-Type": "text/calendar"})
        return href.rsplit("/", 1)[1]
    raise SystemExit("no 1:1 invite carries an agenda after the first pass")


class Sabre:
    """sabre/dav 1.8 under `php -S` (tests/it/fixtures/sabre_server.php) on an SQLite file that
    outlives a restart, so one calendar is served with Basic and then with Digest."""

    def __init__(self, work):
        self.dir = pathlib.Path(work) / f"sabre-{uuid.uuid4().hex[:8]}"
        self.dir.mkdir()
        self.proc = None

    def start(self, auth):
        self.port = free_port()
        env = dict(os.environ, SABRE_DB=str(self.dir / "db.sqlite"), SABRE_USER="alice",
                   SABRE_PASSWORD=PASSWORD, SABRE_AUTH=auth)
        env.pop("PHP_CLI_SERVER_WORKERS", None)  # one process: its CPU time is the server's
        self.proc = subprocess.Popen(
            ["php", "-S", f"127.0.0.1:{self.port}", ROOT / "tests/it/fixtures/sabre_server.php"],
            cwd=self.dir, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.base = f"http://127.0.0.1:{self.port}/"
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.1)
        raise SystemExit("sabre/dav did not start")

    def cpu_s(self):
        """CPU time of the server process so far, in nanoseconds' resolution (`/proc/<pid>/stat`
        counts clock ticks, 10 ms: more than an idle request takes)."""
        ns = pathlib.Path(f"/proc/{self.proc.pid}/schedstat").read_text().split()[0]
        return int(ns) / 1e9

    def stop(self):
        if self.proc:
            self.proc.kill()
            self.proc.wait()


def bench_sabre(work, results):
    events, series, ones = 1_000, 50, 10
    log(f"idle cost without sync-collection: {events} events ({series} series, {ones} 1:1s) on "
        "sabre/dav 1.8 (php -S), Basic then Digest")
    sabre = Sabre(work)
    sabre.start("basic")
    try:
        url = f"{sabre.base}calendars/alice/work/"
        request("MKCALENDAR", url)
        for name, body in calendar_items("alice@example.com", events, ones, series, 1):
            request("PUT", url + name, body.encode(), {"Content-Type": "text/calendar",
                                                     "If-None-Match": "*"})
        out = {}
        for auth in ("basic", "digest"):
            if auth == "digest":
                sabre.stop()
                sabre.start("digest")
                url = f"{sabre.base}calendars/alice/work/"
            db = Database(work, "sqlite")
            env = daemon_env(work, db)
            connect(env, url, "alice", url)
            later = NOW + dt.timedelta(minutes=5)
            for _ in range(5):
                timed([BIN, "sync", "--once", "--now", rfc3339(later)], env=env)
                if last_runs(db)[0][1] == 0:
                    break
            # Idle passes, and the server's CPU time for each (`/proc`): the median of 5.
            cpu = []
            for _ in range(5):
                before = sabre.cpu_s()
                timed([BIN, "sync", "--once", "--now", rfc3339(later)], env=env)
                cpu.append(sabre.cpu_s() - before)
            server_cpu = sorted(cpu)[len(cpu) // 2]
            idle = last_runs(db)[0]
            x = {"requests_per_calendar": idle[0], "writes": idle[1],
                 "server_cpu_ms": round(server_cpu * 1000, 2)}
            if auth == "basic":
                changed = type_a_topic(None, url)
                before = sabre.cpu_s()
                timed([BIN, "sync", "--once", "--now",
                       rfc3339(later + dt.timedelta(minutes=5))], env=env)
                x["changed_server_cpu_ms"] = round((sabre.cpu_s() - before) * 1000, 2)
                change = last_runs(db)[0]
                x["changed_one_on_one_requests"] = change[0]
                x["changed_one_on_one_writes"] = change[1]
                log(f"  {auth}: idle pass {idle[0]} requests, {idle[1]} writes, server CPU "
                    f"{x['server_cpu_ms']} ms; after a topic typed into {changed}: {change[0]} "
                    f"requests, {change[1]} writes, server CPU {x['changed_server_cpu_ms']} ms")
            else:
                log(f"  {auth}: idle pass {idle[0]} requests, {idle[1]} writes, server CPU "
                    f"{x['server_cpu_ms']} ms")
            out[auth] = x
        results["idle_sabre"] = out
    finally:
        sabre.stop()


def bench_scale(work, results, accounts, dialects):
    per = 100
    log(f"scale: {accounts} accounts x {per} events on one Radicale ({', '.join(dialects)})")
    users = [f"u{i}" for i in range(accounts)]
    rad = Radicale(work, users)
    for i, u in enumerate(users):
        rad.add_calendar(u, "work", calendar_items(f"{u}@example.com", per, 4, 20, 1000 + i))
    rad.start()
    out = {}
    try:
        for dialect in dialects:
            db = Database(work, dialect)
            env = daemon_env(work, db)
            t0 = time.perf_counter()
            for u in users:
                connect(env, rad.base, u, "work")
            connect_s = time.perf_counter() - t0
            # Connecting writes nothing: the first `sync --once` starts the accounts and writes
            # their agendas; the steady state is measured after it.
            timed([BIN, "sync", "--once", "--now", rfc3339(NOW + dt.timedelta(minutes=5))], env=env)
            half = accounts // 2
            figures = {}
            # Steady state: a pass over the first half, then over all, both after an idle
            # interval; memory per additional account from the difference.
            for label, ids in (("half", range(1, half + 1)), ("all", None)):
                cmd = [BIN, "sync", "--once", "--now", rfc3339(NOW + dt.timedelta(minutes=10))]
                if ids is not None:
                    # `sync --once` takes one --account; passes over a subset go through
                    # disabling the others for the measurement.
                    db_disable(db, half)
                _, figures[label] = timed(cmd, env=env)
                if ids is not None:
                    db_enable(db)
            runs = last_runs(db, accounts)
            reqs = sorted(r for r, _ in runs)
            writes = sum(w for _, w in runs)
            per_account_mb = (figures["all"]["rss_mb"] - figures["half"]["rss_mb"]) / (accounts - half)
            log(f"  {dialect}: connect of {accounts} accounts {connect_s:.1f} s; steady pass "
                f"{figures['all']}; requests per account {reqs[0]}..{reqs[-1]}, writes {writes}; "
                f"RSS per additional account {per_account_mb * 1024:.0f} KB")
            out[dialect] = {"accounts": accounts, "events_per_account": per,
                            "connect_all_s": round(connect_s, 1), "steady_pass": figures["all"],
                            "half_pass": figures["half"], "requests_min": reqs[0],
                            "requests_max": reqs[-1], "writes": writes,
                            "rss_per_account_kb": round(per_account_mb * 1024, 1)}
            db.drop()
    finally:
        rad.stop()
    results["scale_radicale"] = out


def db_execute(db, stmt):
    if db.dialect == "sqlite":
        con = sqlite3.connect(db.path)
        con.execute(stmt)
        con.commit()
        con.close()
    else:
        db.psql(stmt, db.url)


def db_disable(db, keep):
    db_execute(db, f"UPDATE accounts SET state = 'disabled' WHERE id > {keep}")


def db_enable(db):
    db_execute(db, "UPDATE accounts SET state = 'active' WHERE state = 'disabled'")


def big_description(size):
    """`size` bytes of notes, a paragraph a line, as a description's text (unescaped)."""
    para = "Notes from the archive: what we said, what we decided, what is left to do.\n"
    return (para * (size // len(para) + 1))[:size]


def fold(line):
    """RFC 5545 folding at 75 octets (ASCII text here)."""
    out = [line[:75]]
    out += [" " + line[i:i + 74] for i in range(75, len(line), 74)]
    return "\r\n".join(out)


BIG_PLACEHOLDER = "BENCH-BIG-DESCRIPTION"


def escape_text(text):
    return text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,") \
        .replace("\n", "\\n")


def memory_calendar():
    """A weekly 1:1 whose description is a placeholder the proxy replaces with a big one (Radicale
    takes minutes to parse a 10 MB event, and would measure nothing of ours), and a normal weekly
    1:1."""
    start = dt.datetime(2026, 1, 6, 10, 0)
    items = []
    for uid, who, desc in (("big-notes", "eve", BIG_PLACEHOLDER),
                           ("normal", "dana", "Bring your topics.")):
        ev = vevent(f"{uid}@example.com", f"1:1 Owner / {who.title()}", start, 30,
                    "alice@example.com", [f"{who}@example.com"], rule="FREQ=WEEKLY")
        ev = ev.replace("END:VEVENT", fold(f"DESCRIPTION:{escape_text(desc)}") + "\r\nEND:VEVENT")
        body = "\r\n".join(["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//oneonone bench//EN",
                            VTIMEZONE.replace("\n", "\r\n"), ev, "END:VCALENDAR", ""])
        items.append((f"{uid}.ics", body))
    return items


class HostileProxy:
    """Passes every request to a Radicale, except that with `hostile` set a REPORT is answered
    207 with `hostile` (a multistatus of millions of empty elements); with `big` set, the
    placeholder description of `memory_calendar` is replaced by `big` (unfolded, escaped) in
    every answer, folded with the line ending the answer uses there."""

    def __init__(self, upstream_port):
        import http.client
        import http.server
        import threading
        proxy = self
        self.hostile = None
        self.big = None

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def any(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else None
                if proxy.hostile is not None and self.command == "REPORT":
                    self.send_response(207)
                    self.send_header("Content-Type", "application/xml; charset=utf-8")
                    self.send_header("Content-Length", str(len(proxy.hostile)))
                    self.end_headers()
                    self.wfile.write(proxy.hostile)
                    return
                c = http.client.HTTPConnection("127.0.0.1", upstream_port, timeout=600)
                headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                c.request(self.command, self.path, body=body, headers=headers)
                r = c.getresponse()
                data = r.read()
                mark = f"DESCRIPTION:{BIG_PLACEHOLDER}".encode()
                if proxy.big is not None and mark in data:
                    at = data.index(mark) + len(mark)
                    eol = next(e for e in (b"&#13;\n", b"\r\n", b"\n") if data.startswith(e, at))
                    line = fold(f"DESCRIPTION:{proxy.big}").encode().replace(b"\r\n", eol)
                    data = data.replace(mark, line)
                self.send_response(r.status)
                for k, v in r.getheaders():
                    if k.lower() not in ("transfer-encoding", "connection", "content-length"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                c.close()

        for m in ("GET", "PUT", "DELETE", "PROPFIND", "REPORT", "OPTIONS", "MKCALENDAR", "HEAD"):
            setattr(Handler, f"do_{m}", Handler.any)
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()


def empty_elements_answer(size, element):
    """A multistatus of `size` bytes whose one response's prop holds nothing but `element`."""
    head = (b'<?xml version="1.0" encoding="utf-8"?>\n<multistatus xmlns="DAV:"><response>'
            b'<href>/alice/work/x.ics</href><propstat><prop>')
    tail = b'</prop><status>HTTP/1.1 200 OK</status></propstat></response></multistatus>'
    n = (size - len(head) - len(tail)) // len(element)
    return head + element * n + tail


def bench_memory(work, results, sizes, hostile_mb, key="memory"):
    out = {}
    for mb in sizes:
        log(f"memory: a 1:1 whose description is {mb} MB, beside a normal 1:1, on Radicale")
        rad = Radicale(work, ["alice"])
        url = rad.add_calendar("alice", "work", memory_calendar())
        rad.start()
        proxy = HostileProxy(rad.port)
        proxy.big = escape_text(big_description(mb * 1_000_000))
        try:
            db = Database(work, "sqlite")
            env = daemon_env(work, db)
            _, conn = connect(env, proxy.base, "alice", "work")
            _, sync = timed([BIN, "sync", "--once", "--now",
                             rfc3339(NOW + dt.timedelta(minutes=5))], env=env)
            rows = db.query("SELECT uid, last_error FROM series")
            errors = {uid.split("@")[0]: err for uid, err in rows}
            normal, _ = request("GET", f"{url}normal.ics")
            log(f"  connect {conn}; sync --once {sync}; series errors {errors}; "
                f"normal 1:1 has its agenda: {'oneonone agenda' in normal}")
            out[f"description_{mb}mb"] = {
                "connect": conn, "sync_once": sync,
                "refused": "over the limit" in (errors.get("big-notes") or ""),
                "normal_agenda": "oneonone agenda" in normal}
            db.drop()
        finally:
            proxy.stop()
            rad.stop()
    if hostile_mb:
        rad = Radicale(work, ["alice"])
        rad.add_calendar("alice", "work", memory_calendar())
        rad.start()
        proxy = HostileProxy(rad.port)
        try:
            db = Database(work, "sqlite")
            env = daemon_env(work, db)
            connect(env, proxy.base, "alice", "work")
            for label, element in (("unknown", b"<a/>"), ("known", b"<href/>")):
                log(f"memory: sync --once against {hostile_mb} MB of empty {element.decode()} "
                    "elements")
                proxy.hostile = empty_elements_answer(hostile_mb * 1_000_000, element)
                _, f = timed([BIN, "sync", "--once", "--now",
                              rfc3339(NOW + dt.timedelta(minutes=5))], env=env, check=False)
                said = [l for l in f.pop("stderr", "").splitlines() if "XML" in l][:1]
                log(f"  {f}; {said}")
                f["error"] = said[0].split("XML answer: ")[-1] if said else ""
                out[f"hostile_{label}_{hostile_mb}mb"] = f
            db.drop()
        finally:
            proxy.stop()
            rad.stop()
    results[key] = out


def bench_google(results):
    """The Google half lives in the Rust test harness (the Google test server is a test fixture):
    an ignored test prints one `BENCH {json}` line."""
    log("scale and idle cost on the Google test server")
    p = subprocess.run(["cargo", "test", "--release", "--quiet", "--test", "it", "bench_google",
                        "--", "--ignored", "--nocapture", "--test-threads", "1"],
                       cwd=ROOT, capture_output=True, text=True)
    lines = [l[6:] for l in p.stdout.splitlines() if l.startswith("BENCH ")]
    if p.returncode != 0 or not lines:
        log(f"  skipped: the Google bench did not run ({p.returncode}): {p.stderr[-400:]}")
        return
    for line in lines:
        results.update(json.loads(line))


def bench_hot(results):
    log("hot paths (criterion) and the parser beside Python icalendar")
    p = subprocess.run([ROOT / "scripts/bench-ics"], cwd=ROOT, capture_output=True, text=True)
    if p.returncode != 0:
        raise SystemExit(p.stdout + p.stderr)
    m = re.search(r"ratio=([\d.]+)x \(Rust ([\d.]+) MB/s, Python ([\d.]+) MB/s\)", p.stdout)
    results["parse_ratio"] = {"ratio": float(m.group(1)), "rust_mb_s": float(m.group(2)),
                              "python_mb_s": float(m.group(3))}
    subprocess.run(["cargo", "bench", "--quiet", "--bench", "ics", "--bench", "hot", "--", "--noplot"],
                   cwd=ROOT,
                   check=True, capture_output=True)
    hot = {}
    crit = TARGET / "criterion"
    for est in sorted(crit.glob("*/*/new/estimates.json")):
        name = f"{est.parent.parent.parent.name}/{est.parent.parent.name}"
        hot[name] = json.loads(est.read_text())["mean"]["point_estimate"] / 1e3  # µs
    for est in sorted(crit.glob("*/new/estimates.json")):
        hot[est.parent.parent.name] = json.loads(est.read_text())["mean"]["point_estimate"] / 1e3
    results["hot_us"] = hot


# ---------------------------------------------------------------------------------------------
# The report.

LOWER_IS_BETTER = re.compile(r"(wall_s|cpu_s|rss_mb|requests|writes|_us/|rss_per_account)")


def flatten(d, prefix=""):
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            yield from flatten(v, key + "/")
        elif isinstance(v, (int, float)):
            yield key, v


PEERS = ("import/vdirsyncer", "import/python_caldav")


def regressions(previous, current):
    warnings = []
    old = dict(flatten(previous))
    for key, new in flatten(current):
        was = old.get(key)
        if was is None or was == 0 or key.endswith(("events", "series", "one_on_ones", "accounts")):
            continue
        # The peers' own figures say how loaded the machine was, not how our code did.
        if key.startswith(PEERS) or key.endswith("python_mb_s"):
            continue
        if LOWER_IS_BETTER.search(key):
            worse = (new - was) / was
        elif "ratio" in key or "mb_s" in key:
            worse = (was - new) / was
        else:
            continue
        if worse > 0.20:
            warnings.append(f"WARNING: {key} regressed {worse:.0%}: {was:g} -> {new:g}")
    return warnings


def fmt(x, unit=""):
    return f"{x:,.2f}{unit}" if isinstance(x, float) else f"{x:,}{unit}"


def machine():
    cpu = "unknown CPU"
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    return f"{os.cpu_count()} cores ({cpu}), {platform.system()} {platform.release()}"


def report(results, warnings):
    r = results
    out = ["# Benchmarks", "",
           f"Generated by `scripts/bench` on {dt.date.today()}; machine: {machine()}. Shared "
           "machine: absolute times vary by about ±15 % from run to run, ratios measured in the "
           "same run much less. Process figures are from `/usr/bin/time` (elapsed; user + "
           "system CPU; peak RSS), request and write counts from the `sync_runs` table (what "
           "`/metrics` and `/readyz` report). Release build.", ""]
    if "import" in r:
        i = r["import"]
        ours, vs, py = i["oneonone"], i["vdirsyncer"], i["python_caldav"]
        out += ["## First import", "",
                f"One calendar of {i['events']:,} events ({i['series']} recurring series, "
                f"{i['one_on_ones']} of them 1:1s) on a local Radicale (written into its storage, "
                "its item cache warmed by one fetch first). Ours: `oneonone connect caldav` "
                "(discovery, full fetch, detection and the preview of the agendas; connecting "
                "writes nothing) on a fresh "
                f"SQLite database; it found {i['found']} 1:1s. vdirsyncer "
                "0.21: `discover` + `sync` into a local folder "
                f"({i['vdirsyncer_files']:,} files). Python caldav: `calendar.events()`."]
        runs = i.get("runs", 1)
        if runs > 1:
            out[-1] += (f" Each tool ran {runs} times, the three taking turns (so a slow spell of "
                        "the shared machine falls on all of them); each row is the run with the "
                        "median CPU time, and the last column lists every run's. Each run of "
                        "ours imports its own copy of the calendar, one nobody has written "
                        "to.")
        out += ["", "| tool | wall (s) | CPU (s) | peak RSS (MB) | CPU vs ours | CPU of each run (s) |",
                "|---|---|---|---|---|---|"]
        for name, f in (("oneonone connect (import, detect, preview)", ours), ("vdirsyncer sync", vs),
                        ("Python caldav fetch", py)):
            each = ", ".join(f"{c:.2f}" for c in f.get("cpu_runs", [f["cpu_s"]]))
            out.append(f"| {name} | {f['wall_s']:.2f} | {f['cpu_s']:.2f} | {f['rss_mb']:.0f} | "
                       f"{f['cpu_s'] / max(ours['cpu_s'], 0.01):.1f}x | {each} |")
        ratio = vs["cpu_s"] / max(ours["cpu_s"], 0.01)
        verdict = "met" if ratio >= 20 else "NOT met"
        out += ["", f"Target: our CPU time at most 1/20 of vdirsyncer's: **{ratio:.1f}x less**, "
                f"{verdict}.", ""]
    if "idle_radicale" in r or "idle_google" in r:
        out += ["## Idle cost", "",
                "Requests one account's pass makes (one calendar) when nothing changed, and after "
                "one change: a topic typed into the agenda of one 1:1's next invite.", "",
                "| server | idle pass: requests | idle pass: writes | after one change: requests | writes |",
                "|---|---|---|---|---|"]
        for key, name in (("idle_radicale", "Radicale (10,000 events)"),
                          ("idle_google", "Google test server")):
            if key in r:
                x = r[key]
                out.append(f"| {name} | {x['requests_per_calendar']} | {x['writes']} | "
                           f"{x['changed_one_on_one_requests']} | {x['changed_one_on_one_writes']} |")
        out += ["", "Target: exactly 1 request and 0 writes per idle calendar.", ""]
    if "idle_sabre" in r:
        x = r["idle_sabre"]
        out += ["### Without sync-collection (sabre/dav 1.8)", "",
                f"sabre/dav 1.8 (Debian's `php-sabre-dav` under `php -S`, SQLite; "
                "`scripts/bench --only sabre`) has no sync-collection: a pass asks the "
                "calendar's ctag (one PROPFIND, Depth 0) and only when it moved lists the etags "
                "and multigets what changed. 1,000 events (50 series, 10 1:1s); server CPU from "
                "`/proc/<pid>/schedstat` of the one `php -S` process around the pass (idle: the "
                "median of 5 passes). Each "
                "`sync --once` is a new process: with Digest its first request meets the 401 "
                "that brings the nonce; the daemon keeps the nonce from pass to pass, so its idle "
                "pass is 1 request there too (tests/it/caldav_sync.rs).", "",
                "| auth | idle pass: requests | writes | server CPU (ms) | "
                "after one change: requests | writes | server CPU (ms) |",
                "|---|---|---|---|---|---|---|"]
        for auth in ("basic", "digest"):
            if auth in x:
                y = x[auth]
                out.append(f"| {auth.capitalize()} | {y['requests_per_calendar']} | {y['writes']} | "
                           f"{y['server_cpu_ms']} | "
                           f"{y.get('changed_one_on_one_requests', '-')} | "
                           f"{y.get('changed_one_on_one_writes', '-')} | "
                           f"{y.get('changed_server_cpu_ms', '-')} |")
        out.append("")
    for key, name in (("scale_radicale", "Radicale"), ("scale_google", "the Google test server")):
        if key not in r:
            continue
        how = ("One steady-state pass (`oneonone sync --once` over every account, "
               "`sync.concurrency` 8; `/usr/bin/time`) after every account was connected and had "
               "its first pass.") if key == "scale_radicale" else (
               "One real daemon (`oneonone run`, `sync.concurrency` 4, the default) serving every account; the "
               "steady-state pass is one after every account had its first pass (access tokens "
               "cached, as in production): wall time from `sync_runs` (first start to last "
               "finish), CPU from `/proc/<pid>/stat`, peak RSS from `VmHWM` "
               "(`tests/it/bench_google.rs`).")
        out += [f"## Scale on {name}", "",
                how + " Memory per additional account: peak RSS serving all accounts minus that "
                "serving half of them, divided by the difference.", "",
                "| database | accounts x events | pass wall (s) | pass CPU (s) | peak RSS (MB) | "
                "RSS per extra account (KB) | requests per account | writes |",
                "|---|---|---|---|---|---|---|---|"]
        for dialect, x in r[key].items():
            p = x["steady_pass"]
            out.append(f"| {dialect} | {x['accounts']:,} x {x['events_per_account']} | "
                       f"{p['wall_s']:.2f} | {p['cpu_s']:.2f} | {p['rss_mb']:.0f} | "
                       f"{x['rss_per_account_kb']:.0f} | {x['requests_min']}–{x['requests_max']} | "
                       f"{x['writes']} |")
        out += ["", "Targets: a steady pass over 1,000 accounts under 10 s on 2 cores; RSS under "
                "150 MB.", ""]
    if "memory" in r:
        m = r["memory"]
        before = r.get("memory_before", {})
        out += ["## Memory of a pass over an oversized event", "",
                "Peak RSS (`/usr/bin/time`) of `oneonone connect caldav` and of the `sync --once` "
                "after it, over a calendar on a local Radicale holding a weekly 1:1 whose "
                "description is N MB (over `agenda.max_description_bytes`, so refused, naming the "
                "event) beside a normal weekly 1:1 (which gets its agenda); and of `sync --once` "
                "against a server whose sync report answers a multistatus of that many MB of empty "
                "elements, of a name the client does not read (`<a/>`) and of one it reads "
                "(`<href/>`), both under `network.max_response_bytes` (64 MiB). Radicale holds "
                "the big 1:1 with a short description, which a proxy replaces in every answer "
                "(Radicale's own parser takes minutes over a 10 MB event). The \"before\" "
                "figures are those of the build before the fix (commit 9f1736a), measured the "
                "same way (`--memory-key memory_before` with `ONEONONE_BENCH_BIN`).", "",
                "| case | connect: peak RSS (MB), before → now | sync --once: peak RSS (MB), before → now | sync --once: CPU (s) | outcome |",
                "|---|---|---|---|---|"]
        def was(key, *path):
            x = before.get(key)
            for p in path:
                x = x.get(p) if isinstance(x, dict) else None
            return f"{x:.0f} → " if isinstance(x, (int, float)) else ""
        for key, x in m.items():
            if key.startswith("description_"):
                mb = key.split("_")[1][:-2]
                outcome = ("refused, named" if x["refused"] else "NOT refused") + \
                    ("; the normal 1:1 got its agenda" if x["normal_agenda"] else
                     "; the normal 1:1 has NO agenda")
                out.append(f"| {mb} MB description | {was(key, 'connect', 'rss_mb')}"
                           f"{x['connect']['rss_mb']:.0f} | {was(key, 'sync_once', 'rss_mb')}"
                           f"{x['sync_once']['rss_mb']:.0f} | {x['sync_once']['cpu_s']:.2f} | "
                           f"{outcome} |")
            else:
                _, kind, mb = key.split("_")
                name = "`<a/>`" if kind == "unknown" else "`<href/>`"
                outcome = "refused: " + x["error"].split("XML answer: ")[-1] if x["error"] else \
                    f"exit {x.get('exit', 0)}"
                out.append(f"| {mb[:-2]} MB answer of {name} | | {was(key, 'rss_mb')}"
                           f"{x['rss_mb']:.0f} | {x['cpu_s']:.2f} | {outcome} |")
        out += ["", "Target: a pass over a 10 MB description under 120 MB; memory per pass a "
                "small multiple of `network.max_response_bytes` whatever the answer holds.", ""]
    if "parse_ratio" in r or "hot_us" in r:
        out += ["## Hot paths", ""]
        if "parse_ratio" in r:
            p = r["parse_ratio"]
            out += ["`scripts/bench-ics`: `oneonone::ics::parse` and Python `icalendar` "
                    "`Calendar.from_ical` on the same generated 5 MB calendar, best of several "
                    "runs each:", "",
                    "| parser | MB/s |", "|---|---|",
                    f"| oneonone | {p['rust_mb_s']:.1f} |", f"| Python icalendar | {p['python_mb_s']:.2f} |",
                    f"| **ratio** | **{p['ratio']:.1f}x** (target 30x) |", ""]
        if "hot_us" in r:
            out += ["Criterion means (`cargo bench --bench ics --bench hot`):", "",
                    "| benchmark | mean |", "|---|---|"]
            for name, us in r["hot_us"].items():
                shown = f"{us / 1000:.2f} ms" if us >= 1000 else f"{us:.1f} µs"
                out.append(f"| `{name}` | {shown} |")
            out.append("")
    if warnings:
        out += ["## Regressions against the previous run", ""] + [f"- {w}" for w in warnings] + [""]
    out += [f"{DATA_MARK} {json.dumps(results, sort_keys=True)} -->", ""]
    return "\n".join(out)


def previous_results(path):
    if not path.exists():
        return {}
    m = re.search(re.escape(DATA_MARK) + r" (.*) -->", path.read_text())
    return json.loads(m.group(1)) if m else {}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--only", default="import,scale,sabre,google,hot,memory")
    ap.add_argument("--accounts", type=int, default=200, help="accounts for the Radicale scale run")
    ap.add_argument("--dialects", default="sqlite,postgres")
    ap.add_argument("--import-runs", type=int, default=3,
                    help="runs of each tool in the first-import section (odd: the median is kept)")
    ap.add_argument("--memory-sizes", default="10,30",
                    help="description sizes (MB) of the memory section")
    ap.add_argument("--hostile-mb", type=int, default=66,
                    help="size (MB) of the hostile XML answer of the memory section (0: none)")
    ap.add_argument("--memory-key", default="memory",
                    help="where the memory figures go: `memory_before` for a reference build "
                         "(ONEONONE_BENCH_BIN), shown beside the current ones")
    ap.add_argument("--out", default=str(ROOT / "BENCHMARKS.md"))
    args = ap.parse_args()
    only = set(args.only.split(","))
    out = pathlib.Path(args.out)
    previous = previous_results(out)
    results = {}
    with tempfile.TemporaryDirectory(prefix="oneonone-bench-") as work:
        if "import" in only:
            bench_import(work, results, args.import_runs)
        if "scale" in only:
            bench_scale(work, results, args.accounts, args.dialects.split(","))
        if "memory" in only:
            bench_memory(work, results, [int(s) for s in args.memory_sizes.split(",") if s],
                         args.hostile_mb, args.memory_key)
        if "sabre" in only:
            bench_sabre(work, results)
    if "google" in only:
        bench_google(results)
    if "hot" in only:
        bench_hot(results)
    merged = dict(previous)
    merged.update(results)
    warnings = regressions(previous, results)
    for w in warnings:
        print(w)
    out.write_text(report(merged, warnings))
    print(json.dumps(results, indent=2, sort_keys=True))
    log(f"wrote {out}")


if __name__ == "__main__":
    main()
