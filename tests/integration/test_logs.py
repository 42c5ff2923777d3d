"""test_logs.py - log records end to end: every daemon's records reach the
logs table through logd; ingressd writes an access record per failed
request, and for successes one record the first time in a window and one
record counting the others;
stderr is one well-formed logfmt record per line whatever a client sends;
no IP address is ever stored or written; a dead logd blocks nothing and the
records go on reaching stderr."""

import datetime
import time

import pytest

import sembark
from sembark import find_ip_addresses

LEVELS = ("debug", "info", "warning", "error")
CLIENT_IP = "127.0.0.2"  # tests connect from here; ingressd listens on 127.0.0.1
HEADER_IPS = ("192.0.2.55", "192.0.2.56", "192.0.2.57", "2001:db8::77")


def since(stack):
    """Records of this stack: made after it was created (a previous stack's
    last records may still be on their way into the table)."""
    return datetime.datetime.fromtimestamp(stack.started_at, datetime.timezone.utc)


def rows(pg, where="TRUE", params=()):
    return pg.query("SELECT at, service, level, message, fields FROM logs WHERE " + where +
                    " ORDER BY at", params)


def test_records_from_every_service(stack, pg):
    for p in ("/healthz", "/it-logs-404", "/.well-known/security.txt"):
        stack.get(p)
    t0 = since(stack)

    def services():
        return {r[1] for r in rows(pg, "at >= %s", (t0,))}

    want = {"ingressd", "authd", "telemetryd", "logd"}
    try:
        sembark.wait_until(lambda: want <= services(), 10, interval=0.2,
                           what="records from %s in table logs" % sorted(want))
    except AssertionError:
        raise AssertionError("services with records since the stack started: %s, want %s" %
                             (sorted(services()), sorted(want))) from None
    for at, service, level, message, fields in rows(pg, "at >= %s", (t0,)):
        assert level in LEVELS, (service, level, message)
        assert isinstance(message, str) and message, (service, level, fields)
        assert isinstance(fields, dict), (service, message, fields)
        assert at.tzinfo is not None


def test_access_records(stack, pg):
    t0 = datetime.datetime.now(datetime.timezone.utc)
    for i in range(3):
        assert stack.get("/it-access-%d" % i).status_code == 404

    def n404():
        return len([r for r in rows(pg, "service = 'ingressd' AND at >= %s", (t0,))
                    if "404" in str(r[4]) or "404" in r[3]])

    sembark.wait_until(lambda: n404() >= 3, 10, interval=0.2,
                       what="3 access records (status 404) from ingressd in table logs")


def access_lines(text, route):
    """(msg, fields) of ingressd's access records of this route on its stderr."""
    out = []
    for line in text.splitlines():
        if "route=%s " % route not in line:
            continue
        msg = "http requests" if 'msg="http requests"' in line else "http request"
        fields = dict(kv.split("=", 1) for kv in line.split() if "=" in kv and '"' not in kv)
        out.append((msg, fields))
    return out


def test_successes_are_counted_failures_logged_each(make_stack):
    s = make_stack()
    for _ in range(20):
        assert s.get("/.well-known/security.txt").status_code == 200
    for i in range(4):
        assert s.get("/it-each-%d" % i).status_code == 404
    s.stop("ingressd")  # what is still counted is written at stop
    err = s.stderr("ingressd")
    ok = access_lines(err, "/.well-known/security.txt")
    singles = [f for m, f in ok if m == "http request"]
    summaries = [f for m, f in ok if m == "http requests"]
    # every success accounted for, in a few records: the first of a window, then a count
    assert len(singles) + sum(int(f["count"]) for f in summaries) == 20, ok
    assert 1 <= len(singles) <= 3 and len(ok) <= 6, ok
    for f in summaries:
        assert f["status"] == "200" and int(f["duration_ms_max"]) >= int(f["duration_ms_avg"]), f
        assert int(f["bytes"]) > 0, f
    # every failure has a record of its own, with its path
    failed = [line for line in err.splitlines() if "path=/it-each-" in line]
    assert len(failed) == 4 and all("status=404" in line for line in failed), failed


FORGERY_PATHS = [
    "/it-forge%0Atime=2020-01-01T00:00:00.000Z%20service=forged%20level=error%20msg=forged",
    "/it-forge%0D%0Aservice=forged",
    "/it-forge%22%20level=error%20service=forged",
    "/it-forge%1B%5B31mred%00nul%7F",
    "/it-forge%E2%80%A8ls%C0%AFbad%FF",
]
FORGERY_RAW = [
    b'GET /it-forge"level=error HTTP/1.1\r\nHost: x\r\n\r\n',
    b"GET /it-forge\x1b[2J\x7f\xff HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET /it-forge\\x0alevel=error HTTP/1.1\r\nHost: x\r\nUser-Agent: a\x0bb\r\n\r\n",
]


def send_forgeries(stack):
    for p in FORGERY_PATHS:
        stack.get(p)
        stack.request("POST", p, data=b"{}", headers={"Content-Type": "application/json"})
    for raw in FORGERY_RAW:
        try:
            sembark.raw_request(stack.port, raw.replace(b"Host: x", b"Host: 127.0.0.1:%d" % stack.port), timeout=5)
        except (OSError, AssertionError):
            pass


def test_stderr_is_logfmt_and_unforgeable(stack):
    send_forgeries(stack)
    time.sleep(0.3)
    for n in reversed(sembark.DAEMONS):
        stack.stop(n)
    problems = []
    for n in sembark.DAEMONS:
        raw = b"".join(open(p, "rb").read() for p in stack.daemons[n].stderr_paths)
        assert b"\x1b" not in raw, "raw ESC byte in sembark-%s stderr" % n
        lines = raw.decode("utf-8", "replace").split("\n")
        assert lines[-1] == "", "sembark-%s stderr does not end with a newline" % n
        for line in lines[:-1]:
            problems += ["sembark-%s: %s" % (n, p) for p in sembark.check_log_line(line, n)]
            if "service=forged" in line.split(" msg=")[0]:
                problems.append("sembark-%s: forged record: %r" % (n, line))
    assert problems == [], "\n".join(problems[:30])


def test_stored_records_unforgeable(stack, pg):
    t0 = datetime.datetime.now(datetime.timezone.utc)
    send_forgeries(stack)
    time.sleep(1)
    bad = [r for r in rows(pg, "at >= %s", (t0,)) if r[1] == "forged" or r[1] not in
           ("ingressd", "authd", "telemetryd", "logd")]
    assert bad == [], bad
    for r in rows(pg, "at >= %s", (t0,)):
        assert "\x00" not in r[3], r


def test_client_ip_never_logged(stack, pg):
    t0 = datetime.datetime.now(datetime.timezone.utc)
    hdr = {"X-Forwarded-For": HEADER_IPS[0], "X-Real-IP": HEADER_IPS[1],
           "Forwarded": "for=%s;proto=http, for=\"[%s]\"" % (HEADER_IPS[2], HEADER_IPS[3])}
    for p in ("/healthz", "/it-ip-404", "/api/it-ip-404", "/.well-known/security.txt"):
        st, _ = sembark.http_get_from(stack.port, p, CLIENT_IP, headers=hdr)
        assert st in (200, 404), (p, st)
    raw = ("POST /api/login HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nOrigin: %s\r\nX-Forwarded-For: %s\r\n"
           "Content-Type: application/json\r\nContent-Length: 5\r\n\r\n{\"a\":" % (
               stack.port, stack.origin, HEADER_IPS[0])).encode()
    sembark.raw_request(stack.port, raw, source=CLIENT_IP)
    # a record from this burst must have reached the table before we look
    sembark.wait_until(lambda: rows(pg, "service = 'ingressd' AND at >= %s", (t0,)), 10, interval=0.2,
                       what="ingressd records in table logs")
    time.sleep(0.5)
    for n in reversed(sembark.DAEMONS):
        stack.stop(n)
    needles = (CLIENT_IP,) + HEADER_IPS
    for n in sembark.DAEMONS:
        text = stack.stderr(n) + stack.stdout(n)
        for ip in needles:
            assert ip not in text, "client address %s in sembark-%s stderr:\n%s" % (
                ip, n, "\n".join(l for l in text.splitlines() if ip in l)[:2000])
    for r in rows(pg, "at >= %s", (t0,)):
        blob = r[3] + " " + str(r[4])
        for ip in needles:
            assert ip not in blob, "client address %s stored in logs: %r" % (ip, r)


def test_no_ip_address_in_stored_logs(stack, pg):
    """No row of the logs table (everything this session stored) holds anything
    that looks like an IPv4 or IPv6 address."""
    stack.get("/it-scan")
    time.sleep(0.5)
    bad = []
    for r in rows(pg):
        found = find_ip_addresses(r[3]) + find_ip_addresses(str(r[4]))
        if found:
            bad.append((found, r[1], r[2], r[3], r[4]))
    assert bad == [], "IP-like strings in %d stored log rows, e.g.:\n%s" % (
        len(bad), "\n".join(repr(b) for b in bad[:10]))


def test_no_ip_address_on_stderr(stack):
    """No daemon writes anything that looks like an IP address to stderr or
    stdout; this includes its own listen address (the journal keeps both)."""
    for p in ("/healthz", "/it-stderr-404"):
        stack.get(p)
    for n in reversed(sembark.DAEMONS):
        stack.stop(n)
    bad = []
    for n in sembark.DAEMONS:
        for line in (stack.stderr(n) + stack.stdout(n)).splitlines():
            if find_ip_addresses(line):
                bad.append("sembark-%s: %s" % (n, line))
    assert bad == [], "IP-like strings on stderr:\n" + "\n".join(bad[:10])


@pytest.mark.skipif(not sembark.have_zmq(), reason="python3-zmq/python3-msgpack not installed")
def test_logd_redacts_ip_addresses(stack, pg):
    marker = "it-redact-%d" % int(time.time() * 1000)
    body = sembark.log_record_body(marker + " peer 203.0.113.9 and [2001:db8::1]:443 and ::ffff:10.0.0.1",
                                   fields={"peer": "198.51.100.7", "addr": "fe80::1ff:fe23:4567:890a",
                                           "note": "from 10.1.2.3:5555"})
    sembark.push_frames(sembark.endpoint(stack, "log"), [sembark.ipc_frame("log.record", body)])
    got = sembark.wait_until(lambda: rows(pg, "message LIKE %s", (marker + "%",)), 10, interval=0.2,
                             what="the pushed record %s in table logs" % marker)
    assert len(got) == 1, got
    at, service, level, message, fields = got[0]
    found = find_ip_addresses(message) + find_ip_addresses(str(fields))
    assert found == [], "stored unredacted: %r %r" % (message, fields)


def test_logd_down_blocks_nothing(stack, pg):
    stack.kill("logd")

    def logd_down():
        st, body, dt = stack.health(timeout=5)
        assert dt < 2.5, "/healthz took %.2fs with logd dead" % dt
        return body if st == 503 else None

    body = sembark.wait_until(logd_down, 4, interval=0.1, what="/healthz 503 with logd dead")
    assert body["services"] == {"authd": "ok", "telemetryd": "ok", "logd": "down"}, body
    before = stack.stderr("ingressd").count("\n")
    t0 = time.monotonic()
    for i in range(30):
        r = stack.get("/it-nologd-%d" % i, timeout=5)
        assert r.status_code == 404
    took = time.monotonic() - t0
    assert took < 5, "30 requests took %.1fs with logd dead" % took

    def grown():
        return stack.stderr("ingressd").count("\n") - before >= 30
    sembark.wait_until(grown, 3, what="ingressd's records of 30 requests on its stderr while logd is dead")

    # logd back: records reach the table again
    stack.start("logd")
    stack.wait_healthy(timeout=10)
    t1 = datetime.datetime.now(datetime.timezone.utc)
    for i in range(3):
        stack.get("/it-logd-back-%d" % i)
    sembark.wait_until(lambda: rows(pg, "service = 'ingressd' AND at >= %s", (t1,)), 10, interval=0.2,
                       what="ingressd records in table logs after logd came back")


def test_level_filter(make_stack, pg):
    s = make_stack(config={"logs": {"level": "warning"}})
    t0 = datetime.datetime.now(datetime.timezone.utc)
    for i in range(3):
        s.get("/it-level-%d" % i)
    time.sleep(0.5)
    s.stop("ingressd")
    info = [l for l in s.stderr("ingressd").splitlines() if " level=info " in l or " level=debug " in l]
    assert info == [], "info/debug records on stderr with [logs] level = warning:\n" + "\n".join(info[:5])
    stored = rows(pg, "service = 'ingressd' AND at >= %s AND level IN ('info', 'debug')", (t0,))
    assert stored == [], stored[:5]


def test_access_record_time_is_now(stack, pg):
    before = datetime.datetime.now(datetime.timezone.utc)
    stack.get("/it-time")
    after = datetime.datetime.now(datetime.timezone.utc)
    window = ("service = 'ingressd' AND at BETWEEN %s AND %s",
              (before - datetime.timedelta(seconds=2), after + datetime.timedelta(seconds=2)))
    sembark.wait_until(lambda: rows(pg, *window), 10, interval=0.2,
                       what="an ingressd record stamped between %s and %s (UTC)" % (before, after))


@pytest.mark.skipif(not sembark.have_zmq(), reason="python3-zmq/python3-msgpack not installed")
def test_record_stored_as_sent(stack, pg):
    marker = "it-exact-%d" % int(time.time() * 1000)
    t_us = int(time.time() * 1e6) - 3_000_123
    body = sembark.log_record_body(marker, service="authd", level="warning",
                                   fields={"user_id": "u-1", "note": "a \"quoted\" \\ value\nline"},
                                   time_us=t_us)
    sembark.push_frames(sembark.endpoint(stack, "log"), [sembark.ipc_frame("log.record", body)])
    got = sembark.wait_until(lambda: rows(pg, "message = %s", (marker,)), 10, interval=0.2,
                             what="record %s in table logs" % marker)
    assert len(got) == 1, got
    at, service, level, message, fields = got[0]
    assert (service, level) == ("authd", "warning"), got
    assert fields == {"user_id": "u-1", "note": "a \"quoted\" \\ value\nline"}, fields
    want = datetime.datetime.fromtimestamp(t_us / 1e6, datetime.timezone.utc)
    assert abs((at - want).total_seconds()) < 0.002, (at, want)
