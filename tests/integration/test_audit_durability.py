"""test_audit_durability.py - an action answered 2xx has its audit event
stored, exactly once, whatever logd and authd go through (issue 11;
migrations/0008_audit_outbox.sql, services/authd/audit.c,
services/logd/audit_outbox.c).

- logd stopped: every account action is performed (and answered), authd is
  killed with SIGKILL, everything is started again: each event is in
  audit_events exactly once and the outbox is empty.
- logd killed with SIGKILL while its insert waits on a lock this test holds
  (the statement goes on without it), and while it holds events whose insert
  failed (statement timeout): started again, each exactly once.
- a stream of events while logd is killed and started again three times:
  every event exactly once, in the order authd wrote them.
"""

import collections
import threading
import time

import pytest

import sembark
from audit_client import audit_body, new_id, push_audit
from client import PASSWORD, Browser, accounts_available

pytestmark = pytest.mark.skipif(not sembark.have_zmq(),
                                reason="python3-zmq/python3-msgpack not installed")


def stored(pg, team, dbname=sembark.DBNAME):
    """(event, actor email, subject email) of every stored event of team, in id order."""
    return pg.query("SELECT event, coalesce(actor_email, ''), coalesce(subject_email, '') "
                    "FROM audit_events WHERE team_id = %s ORDER BY id", (team,), dbname=dbname)


def outbox_count(pg, team):
    return pg.query("SELECT count(*) FROM audit_outbox WHERE team_id = %s", (team,))[0][0]


def wait_moved(pg, team, n, timeout=20):
    """Until n events of team are stored and none is left in the outbox."""
    def done():
        rows = stored(pg, team)
        return len(rows) >= n and outbox_count(pg, team) == 0 and rows
    return sembark.wait_until(done, timeout, interval=0.1,
                              what="%d audit events of team %s moved out of the outbox" % (n, team))


def test_actions_while_logd_is_down_then_authd_killed(stack, pg):
    if not accounts_available(stack):
        pytest.skip("authd does not serve the account API")
    assert stack.stop("logd") == 0
    owner = Browser(stack)
    owner.signup()
    team = owner.team["id"]
    expected = [("team_created", owner.email, "")]

    member = Browser(stack)
    member.join(owner.invite_url)
    expected.append(("member_joined", member.email, member.email))

    second = Browser(stack)
    assert second.login(owner.email, PASSWORD, expect=None).status_code == 200
    expected.append(("login", owner.email, owner.email))
    bad = Browser(stack)
    assert bad.login(member.email, "not the password, surely", expect=None).status_code == 401
    expected.append(("login_failed", "", member.email))

    assert owner.post("/api/team/invite/rotate").status_code == 200
    expected.append(("invite_rotated", owner.email, ""))
    owner.set_role(member.user["id"], "admin")
    expected.append(("role_changed", owner.email, member.email))
    owner.set_role(member.user["id"], "admin")  # unchanged: no event

    third = Browser(stack)
    assert third.login(owner.email, PASSWORD, expect=None).status_code == 200
    expected.append(("login", owner.email, owner.email))
    other = [s for s in second.get("/api/sessions").json()["sessions"] if not s["current"]]
    assert second.delete("/api/sessions/%s" % other[0]["id"]).status_code == 204
    expected.append(("session_revoked", owner.email, owner.email))
    assert second.post("/api/sessions/revoke-others").status_code == 204
    expected.append(("session_revoked", owner.email, owner.email))
    assert second.post("/api/sessions/revoke-others").status_code == 204  # none left: no event

    r = second.post("/api/password", {"current_password": PASSWORD,
                                      "new_password": PASSWORD + " changed"})
    assert r.status_code == 204, r.text
    expected.append(("password_changed", owner.email, owner.email))
    # (owner's and third's sessions are gone: second is the owner's last one)
    assert second.delete("/api/team/members/%s" % member.user["id"]).status_code == 204
    expected.append(("member_removed", owner.email, member.email))
    second.logout()
    expected.append(("logout", owner.email, owner.email))

    # login_failed is written without waiting (same answer time as an unknown email)
    sembark.wait_until(lambda: outbox_count(pg, team) == len(expected), 10, interval=0.1,
                       what="every event in the outbox")
    assert stored(pg, team) == []
    stack.kill("authd")
    stack.start("authd")
    stack.start("logd")
    wait_moved(pg, team, len(expected))
    time.sleep(0.5)  # anything stored twice would show up by now
    assert stored(pg, team) == expected
    assert stack.health()[0] == 200


def lock_audit_events(pg):
    """A connection holding an ACCESS EXCLUSIVE lock on audit_events (rollback to release)."""
    conn = pg.connect()
    with conn.cursor() as cur:
        cur.execute("LOCK TABLE audit_events IN ACCESS EXCLUSIVE MODE")
    return conn


def logd_backends(pg, state_sql="true"):
    return pg.query("SELECT count(*) FROM pg_stat_activity WHERE usename = 'sembark_logd' "
                    "AND " + state_sql)[0][0]


def test_logd_killed_with_an_insert_in_flight(stack, pg):
    """The insert logd sent goes on in PostgreSQL after logd died: it commits
    (events moved) or not (events still in the outbox), never half."""
    team = new_id()
    n = 50
    locker = lock_audit_events(pg)
    try:
        push_audit(stack, [audit_body("login", team, (new_id(), "inflight%03d@example.com" % i))
                           for i in range(n)])
        sembark.wait_until(lambda: logd_backends(pg, "wait_event_type = 'Lock'") >= 1, 10,
                           interval=0.1, what="logd's insert waiting on the lock")
        stack.kill("logd")
    finally:
        locker.rollback()
        locker.close()
    stack.start("logd")
    wait_moved(pg, team, n)
    time.sleep(0.5)
    assert [r[1] for r in stored(pg, team)] == ["inflight%03d@example.com" % i for i in range(n)]


def test_logd_killed_while_holding_events(make_stack, pg):
    """logd read the events, its insert failed (statement timeout behind a
    lock) so it holds them, and it is killed: they are still in the outbox
    and are stored once after it starts again."""
    s = make_stack(config={"database": {"statement_timeout_ms": "300"}})
    team = new_id()
    n = 50
    locker = lock_audit_events(pg)
    try:
        push_audit(s, [audit_body("login", team, (new_id(), "held%03d@example.com" % i))
                       for i in range(n)])
        sembark.wait_until(lambda: "audit flush failed, events kept" in s.stderr("logd"), 15,
                           interval=0.1, what="logd's insert refused by the statement timeout")
        s.kill("logd")
        sembark.wait_until(lambda: logd_backends(pg) == 0, 10, interval=0.1,
                           what="the killed logd's connections gone")
        assert outbox_count(pg, team) == n
    finally:
        locker.rollback()
        locker.close()
    assert stored(pg, team) == []
    s.start("logd")
    wait_moved(pg, team, n)
    time.sleep(0.5)
    assert [r[1] for r in stored(pg, team)] == ["held%03d@example.com" % i for i in range(n)]


def test_stream_of_events_across_logd_kills(stack, pg):
    team = new_id()
    total, per_batch = 1500, 25
    stop = threading.Event()
    written = []

    def writer():
        i = 0
        deadline = time.monotonic() + 60
        while i < total and time.monotonic() < deadline and not stop.is_set():
            batch = [audit_body("login", team, (new_id(), "s%05d@example.com" % k))
                     for k in range(i, i + per_batch)]
            push_audit(stack, batch)
            written.extend(b["actor_email"] for b in batch)
            i += per_batch
            time.sleep(0.01)

    t = threading.Thread(target=writer)
    t.start()
    try:
        for _ in range(3):
            time.sleep(0.4)
            stack.kill("logd")
            time.sleep(0.2)
            stack.start("logd")
    finally:
        t.join(90)
        stop.set()
    assert len(written) == total
    rows = wait_moved(pg, team, total, timeout=60)
    time.sleep(0.5)
    rows = stored(pg, team)
    counts = collections.Counter(r[1] for r in rows)
    assert [e for e, c in counts.items() if c > 1] == []
    assert [r[1] for r in rows] == written
