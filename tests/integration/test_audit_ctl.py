"""test_audit_ctl.py - the operator's view of what logd stored:
`sembarkctl logs [--service S] [--level L] [--since T] [--limit N]
[--follow]` and `sembarkctl audit --team ID [--limit N]`. Output is one
logfmt line per record (a stored string cannot forge a line), newest
last; filters work; --follow prints new records as they arrive and exits
0 on SIGINT; bad arguments exit 2 with a message."""

import signal
import subprocess
import time

import pytest

import sembark
from audit_client import audit_body, new_id, push_audit, wait_stored_audit

pytestmark = pytest.mark.skipif(not sembark.have_zmq(),
                                reason="python3-zmq/python3-msgpack not installed")


def parse(out):
    recs = []
    for line in out.splitlines():
        assert sembark.check_log_line(line) == [], line
        recs.append(dict(sembark.parse_logfmt(line)))
    return recs


def push_logs(stack, marker, n, ahead_us=0, **kw):
    t0 = int(time.time() * 1e6) - n * 1000 + ahead_us
    sembark.push_frames(sembark.endpoint(stack, "log"), [
        sembark.ipc_frame("log.record", sembark.log_record_body(
            "%s-%d" % (marker, i), time_us=t0 + i * 1000, **kw)) for i in range(n)])


def wait_rows(pg, marker, n):
    sembark.wait_until(lambda: pg.query("SELECT count(*) FROM logs WHERE message LIKE %s",
                                        (marker + "-%",))[0][0] >= n, 10, interval=0.1,
                       what="%d records %s-* in table logs" % (n, marker))


def test_logs_filters_and_order(stack, pg):
    marker = "it-ctl-logs-%d" % int(time.time() * 1000)
    push_logs(stack, marker, 5, service="authd", level="warning",
              fields={"k": "a \"quoted\"\nvalue", "n": "1"})
    push_logs(stack, marker + "-info", 3, ahead_us=2_000_000, service="authd", level="info")
    wait_rows(pg, marker, 8)
    r = sembark.run_ctl(stack.config, "logs", "--service", "authd", "--level", "warning",
                        "--since", "5m", "--limit", "1000")
    assert r.returncode == 0, r.stderr
    recs = [x for x in parse(r.stdout) if x["msg"].startswith(marker)]
    assert [x["msg"] for x in recs] == ["%s-%d" % (marker, i) for i in range(5)], "newest last"
    assert all(x["service"] == "authd" and x["level"] == "warning" for x in recs)
    assert recs[0]["k"] == "a \"quoted\"\nvalue" and recs[0]["n"] == "1"
    r = sembark.run_ctl(stack.config, "logs", "--service", "authd", "--limit", "2")
    assert r.returncode == 0, r.stderr
    assert [x["msg"] for x in parse(r.stdout)] == ["%s-info-1" % marker, "%s-info-2" % marker]
    r = sembark.run_ctl(stack.config, "logs", "--since", "2999-01-01T00:00:00Z")
    assert r.returncode == 0 and r.stdout == "", (r.stdout, r.stderr)


def test_logs_follow(stack, pg):
    marker = "it-ctl-follow-%d" % int(time.time() * 1000)
    p = subprocess.Popen(sembark.command("ctl", "--config", stack.config, "logs", "--follow",
                                         "--service", "telemetryd", "--limit", "1"),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         env=sembark.clean_env(), cwd=sembark.REPO_ROOT)
    try:
        time.sleep(1.5 * sembark.SLOW)
        push_logs(stack, marker, 3, service="telemetryd")
        wait_rows(pg, marker, 3)
        time.sleep(2.5 * sembark.SLOW)
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=10 * sembark.SLOW)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    assert p.returncode == 0, (p.returncode, err)
    got = [x["msg"] for x in parse(out) if x["msg"].startswith(marker)]
    assert got == ["%s-%d" % (marker, i) for i in range(3)], out


def test_audit_command(stack, pg):
    team, other = new_id(), new_id()
    t0 = int(time.time() * 1e6) - 10_000_000
    push_audit(stack, [audit_body("login", team, (new_id(), "a%d@example.com" % i),
                                  (new_id(), "s%d@example.com" % i) if i % 2 else None, t0 + i)
                       for i in range(6)] + [audit_body("logout", other, None, None, t0)])
    wait_stored_audit(pg, team, 6)
    r = sembark.run_ctl(stack.config, "audit", "--team", team)
    assert r.returncode == 0, r.stderr
    recs = parse(r.stdout)
    assert [x.get("actor_email") for x in recs] == ["a%d@example.com" % i for i in range(6)]
    assert all(x["msg"] == "login" and x["service"] == "audit" for x in recs)
    assert "subject_email" not in recs[0] and recs[1]["subject_email"] == "s1@example.com"
    r = sembark.run_ctl(stack.config, "audit", "--team", team, "--limit", "2")
    assert [x["actor_email"] for x in parse(r.stdout)] == ["a4@example.com", "a5@example.com"]
    r = sembark.run_ctl(stack.config, "audit", "--team", new_id())
    assert r.returncode == 0 and r.stdout == "" and "no events" in r.stderr


@pytest.mark.parametrize("args,needle", [
    (("logs", "--level", "loud"), "--level"),
    (("logs", "--limit", "0"), "--limit"),
    (("logs", "--limit", "x"), "--limit"),
    (("logs", "--since", "last tuesday"), "--since"),
    (("logs", "--service", ""), "--service"),
    (("logs", "extra"), "unexpected"),
    (("audit",), "--team"),
    (("audit", "--team", "42"), "--team"),
    (("audit", "--team", new_id(), "--limit", "-1"), "--limit"),
    (("audit", "--team", new_id(), "more"), "unexpected"),
])
def test_bad_arguments(migrated, args, needle):
    r = sembark.run_ctl(migrated, *args)
    assert r.returncode == 2, (args, r.returncode, r.stderr)
    assert needle in r.stderr, r.stderr
