#!/usr/bin/env python3
"""The SSRF attack of issue 29, run inside a private network namespace (tests/it/ssrf.rs starts
it under `unshare -rmn`): a hostile CalDAV server on 127.0.0.1:80 whose principal, home set or
event hrefs point at http://169.254.169.254/... (a cloud metadata address) or http://192.0.2.10/...
(plain http, not loopback), and listeners on those two addresses that record every request they
get. Runs the real `oneonone` binary (connect, then sync --once) for each case, and a name
(cal.test, through a bind-mounted /etc/hosts rewritten in place) that moves from 127.0.0.1 to
169.254.169.254 between two passes. Prints one JSON report on stdout; the Rust test judges it.

Usage: ssrf_namespace.py BIN SECRET_KEY WORKDIR
"""

import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

BIN, KEY, WORK = sys.argv[1], sys.argv[2], sys.argv[3]
NOW = "2026-03-24T12:00:00Z"
TARGETS = {
    "meta": "http://169.254.169.254/latest/meta-data/",
    "plain": "http://192.0.2.10/",
}
HITS = []
HITS_LOCK = threading.Lock()

ICS = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//oneonone tests//EN\r\nBEGIN:VEVENT\r\n"
    "UID:oo-ssrf\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20260105T100000Z\r\nDURATION:PT30M\r\n"
    "RRULE:FREQ=DAILY\r\nSUMMARY:1:1 Sam / Alex\r\nORGANIZER:mailto:sam@example.com\r\n"
    "ATTENDEE;PARTSTAT=ACCEPTED:mailto:sam@example.com\r\n"
    "ATTENDEE;CN=Alex;PARTSTAT=ACCEPTED:mailto:alex@example.com\r\n"
    "END:VEVENT\r\nEND:VCALENDAR\r\n"
)


def sh(*args):
    subprocess.run(args, check=True)


class Listener(BaseHTTPRequestHandler):
    """Stands for the metadata service or an internal host: records, and answers what a
    metadata service would (which must never reach an error shown to anyone)."""

    def handle_one(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        with HITS_LOCK:
            HITS.append(
                "%s %s %s auth=%s"
                % (
                    self.server.server_address[0],
                    self.command,
                    self.path,
                    "Authorization" in self.headers,
                )
            )
        body = b"ami-id\ninstance-id\niam/security-credentials/admin-role\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_PUT = do_PROPFIND = do_REPORT = do_DELETE = do_POST = handle_one

    def log_message(self, *args):
        pass


def multistatus(inner):
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<D:multistatus xmlns:D="DAV:" '
        'xmlns:C="urn:ietf:params:xml:ns:caldav">' + inner + "</D:multistatus>"
    ).encode()


def response(href, props):
    return (
        "<D:response><D:href>%s</D:href><D:propstat><D:prop>%s</D:prop>"
        "<D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response>" % (href, props)
    )


class Hostile(BaseHTTPRequestHandler):
    """A CalDAV server at /<what>-<target>/ (what: principal, home or events) whose answer for
    <what> points at TARGETS[target]; /good/ is a plain, well-behaved calendar."""

    def case(self):
        case = self.path.strip("/").split("/")[0]
        what, _, target = case.partition("-")
        return case, what, TARGETS.get(target), self.path[len(case) + 1 :] or "/"

    def reply(self, status, body=b"", headers=()):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def handle_one(self):
        length = int(self.headers.get("Content-Length") or 0)
        req = self.rfile.read(length).decode("utf-8", "replace") if length else ""
        case, what, target, rest = self.case()
        base = "/%s/" % case
        principal = target + "principal/" if what == "principal" and target else base + "principal/"
        home = target + "home/" if what == "home" and target else base + "home/"
        event = target + "cal/oo.ics" if what == "events" and target else base + "cal/oo.ics"
        xml = [("Content-Type", "application/xml; charset=utf-8")]
        cal_props = (
            "<D:resourcetype><D:collection/><C:calendar/></D:resourcetype>"
            "<D:displayname>Work</D:displayname><C:supported-calendar-component-set>"
            '<C:comp name="VEVENT"/></C:supported-calendar-component-set>'
            "<D:sync-token>t1</D:sync-token>"
        )
        if self.command == "PROPFIND" and rest == "/":
            props = "<D:resourcetype><D:collection/></D:resourcetype>"
            props += "<D:current-user-principal><D:href>%s</D:href></D:current-user-principal>" % principal
            return self.reply(207, multistatus(response(base, props)), xml)
        if self.command == "PROPFIND" and rest == "/principal/":
            props = "<C:calendar-home-set><D:href>%s</D:href></C:calendar-home-set>" % home
            props += "<C:calendar-user-address-set><D:href>mailto:sam@example.com</D:href></C:calendar-user-address-set>"
            return self.reply(207, multistatus(response(self.path, props)), xml)
        if self.command == "PROPFIND" and rest == "/home/":
            inner = response(self.path, "<D:resourcetype><D:collection/></D:resourcetype>")
            inner += response(base + "cal/", cal_props)
            return self.reply(207, multistatus(inner), xml)
        if self.command == "PROPFIND" and rest == "/cal/":
            return self.reply(207, multistatus(response(self.path, cal_props)), xml)
        if self.command == "REPORT" and rest == "/cal/" and "sync-collection" in req:
            # No calendar-data even when asked: the client fetches by multiget.
            inner = response(event, '<D:getetag>"1"</D:getetag>')
            return self.reply(207, multistatus(inner + "<D:sync-token>t1</D:sync-token>"), xml)
        if self.command == "REPORT" and rest == "/cal/" and "calendar-multiget" in req:
            data = ICS.replace("\r", "&#13;")
            props = '<D:getetag>"1"</D:getetag><C:calendar-data>%s</C:calendar-data>' % data
            return self.reply(207, multistatus(response(event, props)), xml)
        if self.command == "GET" and rest == "/cal/oo.ics":
            return self.reply(200, ICS.encode(), [("ETag", '"1"'), ("Content-Type", "text/calendar")])
        if self.command == "PUT" and rest == "/cal/oo.ics":
            return self.reply(204, b"", [("ETag", '"2"')])
        return self.reply(404)

    do_GET = do_PUT = do_PROPFIND = do_REPORT = do_DELETE = handle_one

    def log_message(self, *args):
        pass


def serve(addr, handler):
    srv = ThreadingHTTPServer((addr, 80), handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()


def run(case, args, env_extra):
    env = dict(os.environ)
    env.pop("ONEONONE_CONFIG", None)
    env.update(
        {
            "ONEONONE_SECRET_KEY": KEY,
            "ONEONONE__DATABASE__URL": "sqlite://%s/%s.db" % (WORK, case),
            "ONEONONE__SYNC__REQUEST_TIMEOUT_SECS": "5",
            "ONEONONE__NETWORK__ALLOW_HTTP": "true",
            "ONEONONE__LOG__LEVEL": "warn",
            "TEST_CALDAV_PASSWORD": "hunter2",
        }
    )
    env.update(env_extra)
    p = subprocess.run([BIN] + args, env=env, capture_output=True, timeout=120)
    return {"rc": p.returncode, "out": (p.stdout + p.stderr).decode("utf-8", "replace")}


def connect(case, url):
    return run(
        case,
        ["connect", "caldav", "--url", url, "--username", "sam", "--password-env",
         "TEST_CALDAV_PASSWORD", "--owner", "sam@example.com", "--now", NOW],
        {},
    )


def main():
    sh("ip", "link", "set", "lo", "up")
    sh("ip", "addr", "add", "169.254.169.254/32", "dev", "lo")
    sh("ip", "addr", "add", "192.0.2.10/32", "dev", "lo")
    hosts = os.path.join(WORK, "hosts")
    with open(hosts, "w") as f:
        f.write("127.0.0.1 localhost cal.test\n")
    sh("mount", "--bind", hosts, "/etc/hosts")
    serve("169.254.169.254", Listener)
    serve("192.0.2.10", Listener)
    serve("127.0.0.1", Hostile)

    report = {"cases": {}}
    for what in ["principal", "home", "events"]:
        for target in TARGETS:
            case = "%s-%s" % (what, target)
            result = {"connect": connect(case, "http://127.0.0.1/%s/" % case)}
            result["sync"] = run(case, ["sync", "--once", "--now", NOW], {})
            report["cases"][case] = result

    # The name that moves: cal.test is 127.0.0.1 at connect and for the first pass, then
    # 169.254.169.254 (the file is rewritten in place: the bind mount follows the inode).
    rebind = {"connect": connect("good", "http://cal.test/good/")}
    rebind["sync_before"] = run("good", ["sync", "--once", "--now", NOW], {})
    with open(hosts, "w") as f:
        f.write("127.0.0.1 localhost\n169.254.169.254 cal.test\n")
    rebind["sync_after"] = run("good", ["sync", "--once", "--now", NOW], {})
    report["rebind"] = rebind
    with HITS_LOCK:
        report["hits"] = list(HITS)
    print(json.dumps(report))


main()
