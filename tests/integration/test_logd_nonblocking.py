"""test_logd_nonblocking.py - logd's loop never waits for PostgreSQL
(shared/pgq.c): while a batch of audit events, or an audit.list, is stuck
behind a lock this test holds on audit_events, logd still answers ping
(/healthz says services.logd "ok") and still stores log records (the other
table); once the lock goes, the stuck audit.list gets its page and every
event that was sent is stored, once. A batch of log records still waiting
for a lock at SIGTERM is waited for (the drain) and stored before logd
exits 0.

Ordering, not timing, is what is asserted: the stuck work must still be
waiting when the other answers have come. statement_timeout_ms and
rpc_timeout_ms are raised so that nothing stuck gives up on its own while
the lock is held."""

import json
import signal
import time

import pytest

import sembark
from audit_client import Logd, audit_body, new_id, push_audit, stored_audit, wait_stored_audit
from test_db_nonblocking import Locked, in_thread, waiting_backends

pytestmark = pytest.mark.skipif(not sembark.have_zmq(),
                                reason="python3-zmq/python3-msgpack not installed")

PATIENT = {"database": {"statement_timeout_ms": "30000"}, "ingress": {"rpc_timeout_ms": "30000"}}


def waiting_logd_backends(pg):
    return waiting_backends(pg, "logd")


def stored_logs(pg, marker):
    return pg.query("SELECT count(*) FROM logs WHERE message = %s", (marker,))[0][0]


def push_log(stack, marker):
    sembark.push_frames(sembark.endpoint(stack, "log"),
                        [sembark.ipc_frame("log.record", sembark.log_record_body(marker))])


def assert_logd_serves(stack, pg, tag, rounds=3):
    """Ping answered with the database up, and a log record stored, each round."""
    for i in range(rounds):
        st, body, _ = stack.health(timeout=10)
        assert st == 200 and body["services"]["logd"] == "ok", (st, body)
        marker = "it-nonblocking-%s-%d-%d" % (tag, i, int(time.time() * 1000))
        push_log(stack, marker)
        sembark.wait_until(lambda: stored_logs(pg, marker) == 1, 10, interval=0.1,
                           what="record %r stored while audit_events is locked" % marker)


def answer(t, out):
    """What the thread's call returned, once it has (it must, soon)."""
    t.join(30)
    assert not t.is_alive() and "e" not in out, out
    return out["r"]


def test_a_stuck_audit_batch_does_not_stop_the_loop(make_stack, pg):
    s = make_stack(config=PATIENT)
    team = new_id()
    n = 25
    lock = Locked(pg, "audit_events")
    try:
        push_audit(s, [audit_body("login", team, (new_id(), "stuck%d@example.com" % i))
                       for i in range(n)])
        sembark.wait_until(lambda: waiting_logd_backends(pg) >= 1, 10,
                           what="logd's audit batch to wait for the lock")
        assert_logd_serves(s, pg, "batch")
        assert waiting_logd_backends(pg) >= 1, "the audit batch stopped waiting while locked"
    finally:
        lock.release()
    wait_stored_audit(pg, team, n)
    time.sleep(0.3)  # a second copy would have come by now
    rows = stored_audit(pg, team)
    assert len(rows) == n, "%d events sent, %d stored" % (n, len(rows))
    assert sorted(r[4] for r in rows) == sorted("stuck%d@example.com" % i for i in range(n))


def test_a_stuck_audit_list_does_not_stop_the_loop(make_stack, pg):
    s = make_stack(config=PATIENT)
    team = new_id()
    push_audit(s, [audit_body("login", team, (new_id(), "listed%d@example.com" % i))
                   for i in range(7)])
    wait_stored_audit(pg, team, 7)

    def listing():
        with Logd(s) as logd:
            reply = logd.call({"op": "audit.list", "session_id": new_id(), "user_id": new_id(),
                               "team_id": team, "role": "owner", "query": "limit=5", "body": b""},
                              timeout=40)
        return reply["body"]["status"], json.loads(reply["body"]["body"].decode("utf-8"))

    lock = Locked(pg, "audit_events")
    try:
        t, out = in_thread(listing)
        sembark.wait_until(lambda: waiting_logd_backends(pg) >= 1, 10,
                           what="logd's audit.list to wait for the lock")
        assert_logd_serves(s, pg, "list")
        assert t.is_alive(), "the stuck audit.list was answered before the lock went: %r" % out
    finally:
        lock.release()
    st, page = answer(t, out)
    assert st == 200, page
    assert len(page["events"]) == 5 and page["next"], page
    # and the next request is answered as usual
    with Logd(s) as logd:
        st, page = logd.audit_list(team, "owner", "limit=10")
    assert st == 200 and len(page["events"]) == 7, page


def test_a_batch_in_flight_at_sigterm_is_stored(make_stack, pg):
    s = make_stack(config=PATIENT)
    marker = "it-drain-%d" % int(time.time() * 1000)
    lock = Locked(pg, "logs")
    try:
        push_log(s, marker)
        sembark.wait_until(lambda: waiting_logd_backends(pg) >= 1, 10,
                           what="logd's batch of records to wait for the lock")
        s.send_signal("logd", signal.SIGTERM)
        time.sleep(0.5)
        assert s.daemons["logd"].running(), "logd exited with a batch in flight"
    finally:
        lock.release()
    rc = s.wait_exit("logd")
    assert rc == 0, sembark.tail(s.daemons["logd"].stderr_path)
    assert stored_logs(pg, marker) == 1
    err = s.stderr("logd")
    assert "not stored at stop" not in err, err[-2000:]
