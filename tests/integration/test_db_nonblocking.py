"""test_db_nonblocking.py - authd's and telemetryd's loops never wait for
PostgreSQL (shared/pgq.c): while a session lookup, a login, a sign-up, an
invite acceptance, a password change or a telemetry commit is stuck behind
a lock held by this test, other requests (and ping, through /healthz) are
still answered, in order of their own work rather than behind the stuck
one; a lookup stuck past its deadline is a quick 503, and the next one
works. (logd's: test_logd_nonblocking.py.)

Ordering, not timing, is what is asserted: the stuck request must still be
waiting when the others have their answers."""

import threading
import time

import pytest

import sembark
from client import Browser, invite_code
from telemetry_client import Telemetryd, batch, count, event, new_ids


def waiting_backends(pg, daemon="authd"):
    """How many of a daemon's PostgreSQL backends wait for a lock right now."""
    rows = pg.query("SELECT count(*) FROM pg_stat_activity WHERE application_name = %s"
                    " AND wait_event_type = 'Lock'", ("sembark-" + daemon,))
    return rows[0][0]


class Locked:
    """LOCK TABLE <table> IN ACCESS EXCLUSIVE MODE, held until release()."""

    def __init__(self, pg, table="sessions"):
        self.conn = pg.connect()
        self.cur = self.conn.cursor()
        self.cur.execute("LOCK TABLE %s IN ACCESS EXCLUSIVE MODE" % table)

    def release(self):
        if self.conn:
            self.conn.rollback()
            self.conn.close()
            self.conn = None


def in_thread(fn):
    out = {}

    def run():
        try:
            out["r"] = fn()
        except Exception as e:  # noqa: BLE001 - reported by the caller
            out["e"] = e

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t, out


def test_a_stuck_lookup_does_not_stop_the_loop(stack):
    owner = Browser(stack)
    owner.signup(team_name="Lock Test")
    code = invite_code(owner.invite_url)
    lock = Locked(stack.pg)
    try:
        t, out = in_thread(lambda: owner.get("/api/me", timeout=30))
        sembark.wait_until(lambda: waiting_backends(stack.pg) >= 1, 10,
                           what="the session lookup to wait for the lock")
        # authd answers what needs no session lookup while that one waits
        for _ in range(5):
            r = Browser(stack).get("/api/invites/%s" % code)
            assert r.status_code == 200 and r.json()["team"]["name"] == "Lock Test", r.text
        h = stack.get("/healthz")
        assert h.status_code == 200 and h.json()["services"]["authd"] == "ok", h.text
        assert t.is_alive(), "the stuck request was answered before the lock went: %r" % out
    finally:
        lock.release()
    t.join(30)
    assert not t.is_alive()
    assert "e" not in out, out
    assert out["r"].status_code in (200, 503), out["r"].text
    # whatever that one got, the session works again at once
    sembark.wait_until(lambda: owner.get("/api/me").status_code == 200, 10, what="/api/me 200")


def test_a_lookup_past_its_deadline_is_a_quick_503(make_stack):
    s = make_stack(config={"ingress": {"rpc_timeout_ms": "1500"}})
    owner = Browser(s)
    owner.signup(team_name="Deadline Test")
    lock = Locked(s.pg)
    try:
        t0 = time.monotonic()
        r = owner.get("/api/me", timeout=30)
        took = time.monotonic() - t0
    finally:
        lock.release()
    assert r.status_code == 503 and r.json()["error"] == "service_unavailable", r.text
    assert took < 10, took  # bounded by the deadline, not by the lock
    # the connection given up on is freed when the lock goes; lookups work again
    sembark.wait_until(lambda: owner.get("/api/me").status_code == 200, 15, what="/api/me 200")
    assert "session lookup timed out" in s.stderr("authd")


# Each account path, and a table only it (not the session lookup) needs at
# some step: with that table locked, the op waits there, and the session
# lookups of other callers go on.
STUCK_OPS = {
    "login": ("login_failures", lambda b, other, code: b.login(expect=None)),
    "signup": ("invites", lambda b, other, code: Browser(b.base).signup(expect=None)),
    "accept": ("invites", lambda b, other, code: Browser(b.base).join(
        "/join/%s" % code, expect=None)),
    "password": ("login_failures", lambda b, other, code: b.post(
        "/api/password", {"current_password": b.password,
                          "new_password": "a brand new passphrase 77"}, timeout=30)),
}


@pytest.mark.parametrize("op", sorted(STUCK_OPS))
def test_a_stuck_account_op_does_not_stop_the_loop(stack, op):
    table, run = STUCK_OPS[op]
    owner = Browser(stack)
    owner.signup(team_name="Stuck %s" % op)
    other = Browser(stack)
    other.join(owner.invite_url)
    code = invite_code(owner.invite_url)
    lock = Locked(stack.pg, table)
    try:
        t, out = in_thread(lambda: run(owner, other, code))
        sembark.wait_until(lambda: waiting_backends(stack.pg) >= 1, 15,
                           what="the %s to wait for the lock on %s" % (op, table))
        for _ in range(5):
            r = other.me()
            assert r.status_code == 200, r.text
        h = stack.get("/healthz")
        assert h.status_code == 200 and h.json()["services"]["authd"] == "ok", h.text
        assert t.is_alive(), "the stuck %s was answered before the lock went: %r" % (op, out)
    finally:
        lock.release()
    t.join(30)
    assert not t.is_alive()
    assert "e" not in out, out
    assert out["r"].status_code in (200, 201, 204, 503), out["r"].text


def test_a_stuck_telemetry_commit_does_not_stop_telemetryd(stack):
    user, team = new_ids()
    lock = Locked(stack.pg, "telemetry_seen")
    try:
        def ingest():
            with Telemetryd(stack) as td:
                return td.ingest(batch([event(), event("crash")]), user, team, timeout=30)
        t, out = in_thread(ingest)
        sembark.wait_until(lambda: waiting_backends(stack.pg, "telemetryd") >= 1, 15,
                           what="the telemetry commit to wait for the lock")
        with Telemetryd(stack) as td:
            for _ in range(3):
                status, body = td.summary(team)
                assert status == 200 and len(body["days"]) == 7, body
        h = stack.get("/healthz")
        assert h.status_code == 200 and h.json()["services"]["telemetryd"] == "ok", h.text
        assert t.is_alive(), "the stuck commit was answered before the lock went: %r" % out
    finally:
        lock.release()
    t.join(30)
    assert not t.is_alive() and "e" not in out, out
    status, body = out["r"]
    assert status == 202 and body["accepted"] == 2, body
    assert count(stack.pg, user) == 2
