"""test_telemetry_durability.py - what a 202 from POST /api/telemetry/events
is worth, and what happens when a part of the stack is away:

  - every 202 comes after the commit: the accepted rows are visible to another
    connection the moment the answer arrives, under concurrent clients
  - group commit: requests arriving together share one transaction
  - SIGTERM: queued requests are committed and answered before telemetryd exits
  - telemetryd stopped, or PostgreSQL stopped: 503 quickly, never a hang or a
    202; both recover by themselves
  - kill -9 of telemetryd (and of ingressd) while a client streams batches and
    re-sends what was not acknowledged: every event stored exactly once
"""

import json
import signal
import threading
import time

import pytest
import requests

import sembark
import telemetry_client as tc
from client import Browser
from telemetry_client import batch, event

pytestmark = pytest.mark.skipif(not sembark.have_zmq(), reason="python3-zmq/python3-msgpack not installed")

FAST = {"ingress": {"rpc_timeout_ms": "1500"}}


def owner_token(stack):
    """The owner's Browser (closed) and a Bearer client of the owner."""
    b = Browser(stack)
    b.signup("it durability team")
    native = b.bearer()
    b.close()
    return b, native


def test_202_means_committed(stack, pg):
    b, native = owner_token(stack)
    tok = native.token
    problems = []
    conn = pg.connect()
    conn.autocommit = True
    lock = threading.Lock()

    def client(k):
        s = requests.Session()
        s.trust_env = False
        for _ in range(12):
            evs = [event("crash") for _ in range(40)]
            r = s.post(stack.url("/api/telemetry/events"), json=batch(evs), timeout=15,
                       headers={"Authorization": "Bearer " + tok})
            if r.status_code != 202 or r.json()["accepted"] != 40:
                problems.append("client %d: %s %s" % (k, r.status_code, r.text[:200]))
                continue
            with lock, conn.cursor() as cur:
                cur.execute("SELECT count(*) FROM telemetry_events WHERE id = ANY(%s::uuid[])",
                            ([e["id"] for e in evs],))
                n = cur.fetchone()[0]
            if n != 40:
                problems.append("client %d: 202 but only %d of 40 rows visible" % (k, n))
        s.close()

    threads = [threading.Thread(target=client, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    conn.close()
    assert problems == []
    assert pg.query("SELECT count(*) FROM telemetry_events WHERE user_id = %s AND type = 'crash'",
                    (b.user["id"],))[0][0] == 4 * 12 * 40


def test_group_commit_shares_a_transaction(make_stack, pg):
    """With batch_delay_ms = 300, requests sent together are committed in one
    transaction: their rows carry one received_at (now() of that transaction)."""
    stack = make_stack(config={"telemetry": {"batch_delay_ms": "300"}})
    user, team = tc.new_ids()
    n = 12
    answers = [None] * n
    start = threading.Barrier(n)

    def one(i):
        with tc.Telemetryd(stack) as t:
            start.wait(5)
            answers[i] = t.ingest(batch([event("crash") for _ in range(5)]), user, team)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert all(a == (202, {"accepted": 5, "duplicates": 0, "rejected": []}) for a in answers), answers
    stamps = pg.query("SELECT count(DISTINCT received_at), count(*) FROM telemetry_events "
                      "WHERE user_id = %s", (user,))[0]
    assert stamps[1] == n * 5
    assert stamps[0] <= 3, "%d transactions for %d simultaneous requests" % (stamps[0], n)


def test_batch_max_events_commits_at_once(make_stack, pg):
    """batch_max_events reached: no waiting for batch_delay_ms."""
    stack = make_stack(config={"telemetry": {"batch_delay_ms": "1000", "batch_max_events": "10"}})
    user, team = tc.new_ids()
    with tc.Telemetryd(stack) as t:
        t0 = time.monotonic()
        st, j = t.ingest(batch([event("crash") for _ in range(10)]), user, team)
        assert st == 202 and j["accepted"] == 10
        assert time.monotonic() - t0 < 0.9, "a full batch waited for batch_delay_ms"
        t0 = time.monotonic()
        st, j = t.ingest(batch([event("crash")]), user, team)
        assert st == 202 and time.monotonic() - t0 >= 0.9, "a lone event waits batch_delay_ms"


def test_sigterm_commits_what_is_queued(make_stack, pg):
    stack = make_stack(config={"telemetry": {"batch_delay_ms": "1000"}})
    user, team = tc.new_ids()
    evs = [event("crash") for _ in range(7)]
    with tc.Telemetryd(stack) as t:
        t.dealer.send(sembark.ipc_frame("api.call", {
            "op": "telemetry.ingest", "session_id": "s", "user_id": user, "team_id": team,
            "role": "member", "body": json.dumps(batch(evs)).encode()}, id_=99))
        time.sleep(0.2)  # queued, waiting for its batch_delay_ms
        stack.send_signal("telemetryd", signal.SIGTERM)
        frames = t.dealer.recv(5)
        assert frames is not None, "no answer for the queued request"
        reply = sembark.decode_reply(frames)
        assert reply["type"] == "api.reply" and reply["body"]["status"] == 202, reply
        assert stack.wait_exit("telemetryd") == 0
    assert tc.count(pg, user) == 7


def test_503_when_telemetryd_down(make_stack, pg):
    stack = make_stack(config=FAST)
    b, native = owner_token(stack)
    stack.stop("telemetryd")
    for _ in range(3):
        t0 = time.monotonic()
        r = tc.post_events(native, batch([event()]))
        assert time.monotonic() - t0 < 2.5
        sembark.assert_json_error(r, "service_unavailable", 503)
        t0 = time.monotonic()
        r = tc.get_summary(native)
        assert time.monotonic() - t0 < 2.5
        sembark.assert_json_error(r, "service_unavailable", 503)
    stack.start("telemetryd")
    e = event()

    def sent():
        r = tc.post_events(native, batch([e]))
        return r.status_code == 202 and r
    r = sembark.wait_until(sent, 10, interval=0.2, what="202 after telemetryd is back")
    assert r.json()["accepted"] + r.json()["duplicates"] == 1
    assert pg.query("SELECT count(*) FROM telemetry_events WHERE id = %s", (e["id"],))[0][0] == 1


def test_503_when_postgres_down(make_stack, pg):
    stack = make_stack(config=FAST)
    b, native = owner_token(stack)
    user, team = tc.new_ids()
    pid = stack.pid("telemetryd")
    evs = [event("crash") for _ in range(3)]
    with tc.Telemetryd(stack) as t:
        try:
            pg.stop("fast")
            for _ in range(3):
                t0 = time.monotonic()
                st, j = t.ingest(batch(evs), user, team)
                assert time.monotonic() - t0 < 2
                assert st == 503 and j["error"] == "service_unavailable", (st, j)
                st, j = t.summary(team)
                assert st == 503, (st, j)
                reply = t.signal("sign_in", user, team)
                assert reply["type"] == "error", reply
                t0 = time.monotonic()
                r = tc.post_events(native, batch(evs))
                assert time.monotonic() - t0 < 2.5
                sembark.assert_json_error(r, "service_unavailable", 503)
        finally:
            if not pg.running:
                pg.start()

        def back():
            st, j = t.ingest(batch(evs), user, team)
            return st == 202 and j
        j = sembark.wait_until(back, 10, interval=0.2, what="202 after PostgreSQL is back")
        assert j == {"accepted": 3, "duplicates": 0, "rejected": []}
    assert tc.count(pg, user) == 3
    assert stack.pid("telemetryd") == pid and stack.daemons["telemetryd"].running()
    r = sembark.wait_until(lambda: tc.post_events(native, batch([event()])).status_code == 202, 10,
                           interval=0.2, what="HTTP 202 after PostgreSQL is back")


class Streamer(threading.Thread):
    """A native client: sends batches one after another and re-sends each one
    until it gets a 202, as API.md tells clients to."""

    def __init__(self, stack, tok, batches, size):
        super().__init__(daemon=True)
        self.stack, self.tok = stack, tok
        self.batches = [[event("crash") for _ in range(size)] for _ in range(batches)]
        self.accepted = self.duplicates = self.retries = 0
        self.statuses = {}
        self.done = 0
        self.error = None

    def _send(self, s, evs):
        try:
            r = s.post(self.stack.url("/api/telemetry/events"), json=batch(evs), timeout=10,
                       headers={"Authorization": "Bearer " + self.tok})
        except requests.RequestException as e:
            self.statuses[type(e).__name__] = self.statuses.get(type(e).__name__, 0) + 1
            return None
        self.statuses[r.status_code] = self.statuses.get(r.status_code, 0) + 1
        if r.status_code == 202:
            return r.json()
        if r.status_code != 503:
            raise AssertionError("unexpected answer %d %s" % (r.status_code, r.text[:300]))
        return None

    def run(self):
        s = requests.Session()
        s.trust_env = False
        deadline = time.monotonic() + 90
        try:
            for evs in self.batches:
                while True:
                    j = self._send(s, evs)
                    if j is not None:
                        assert j["rejected"] == [] and j["accepted"] + j["duplicates"] == len(evs), j
                        self.accepted += j["accepted"]
                        self.duplicates += j["duplicates"]
                        break
                    self.retries += 1
                    if time.monotonic() > deadline:
                        raise AssertionError("no 202 for 90 s")
                    time.sleep(0.05)
                    s.close()
                    s = requests.Session()
                    s.trust_env = False
                self.done += 1
        except Exception as e:  # noqa: BLE001 - reported by the test
            self.error = e
        finally:
            s.close()


def test_kill_telemetryd_while_streaming(make_stack, pg):
    stack = make_stack(config=FAST)
    b, native = owner_token(stack)
    st = Streamer(stack, native.token, batches=60, size=50)
    st.start()
    kills = 0
    for victim in ("telemetryd", "telemetryd", "ingressd", "telemetryd"):
        target = st.done + 8
        sembark.wait_until(lambda: st.done >= target or not st.is_alive(), 60, what="batches going through")
        if not st.is_alive():
            break
        stack.kill(victim)
        kills += 1
        time.sleep(0.3)  # the client keeps trying meanwhile
        stack.start(victim)
    st.join(120)
    assert not st.is_alive(), "the client did not finish"
    assert st.error is None, st.error
    assert kills == 4, "the stream ended before every kill (%d)" % kills
    ids = [e["id"] for evs in st.batches for e in evs]
    rows = pg.query("SELECT id::text, count(*) FROM telemetry_events WHERE user_id = %s "
                    "AND type = 'crash' GROUP BY 1", (b.user["id"],))
    got = dict(rows)
    assert len(got) == len(ids), "%d of %d events stored (statuses %r)" % (len(got), len(ids), st.statuses)
    assert set(got) == set(ids)
    assert set(got.values()) == {1}, [k for k, v in got.items() if v != 1][:5]
    # every event was acknowledged at least once; a commit whose answer was
    # lost shows up as duplicates of the re-send, never as a second row
    assert st.accepted <= len(ids) and st.accepted + st.duplicates >= len(ids)
    assert st.retries > 0, "no kill was noticed by the client: %r" % st.statuses


def test_two_telemetryd_same_ids(make_stack, pg):
    """Two telemetryd instances (two stacks, one database) get the same events
    at the same time: each is stored once, and accepted exactly once overall."""
    stacks = [make_stack(), make_stack()]
    user, team = tc.new_ids()
    evs = [event("crash") for _ in range(300)]
    accepted = [0, 0]
    errors = []

    def run(i):
        order = evs if i == 0 else list(reversed(evs))
        with tc.Telemetryd(stacks[i]) as t:
            for k in range(0, len(order), 20):
                chunk = order[k:k + 20]
                for _ in range(50):
                    st, j = t.ingest(batch(chunk), user, team)
                    if st == 202:
                        assert j["accepted"] + j["duplicates"] == len(chunk), j
                        accepted[i] += j["accepted"]
                        break
                    if st != 503:
                        errors.append((st, j))
                        return
                else:
                    errors.append("no 202 after 50 tries")
                    return

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert sum(accepted) == len(evs), accepted
    rows = dict(pg.query("SELECT id::text, count(*) FROM telemetry_events WHERE user_id = %s GROUP BY 1",
                         (user,)))
    assert len(rows) == len(evs) and set(rows.values()) == {1}


def test_failed_commit_is_503_and_nothing_stored(make_stack, pg):
    """The commit cannot finish (a lock held past statement_timeout): every
    request of the batch gets 503, no row of it is stored, and the re-send
    after the lock is gone is a plain 202."""
    stack = make_stack(config={"database": {"statement_timeout_ms": "800"}})
    user, team = tc.new_ids()
    evs = [event("crash") for _ in range(4)]
    conn = pg.connect()
    try:
        with tc.Telemetryd(stack) as t:
            cur = conn.cursor()
            cur.execute("LOCK TABLE telemetry_seen IN ACCESS EXCLUSIVE MODE")
            t0 = time.monotonic()
            st, j = t.ingest(batch(evs), user, team)
            assert st == 503 and j["error"] == "service_unavailable", (st, j)
            assert time.monotonic() - t0 < 3
            conn.rollback()
            assert tc.count(pg, user) == 0
            st, j = t.ingest(batch(evs), user, team)
            assert (st, j) == (202, {"accepted": 4, "duplicates": 0, "rejected": []})
    finally:
        conn.close()
    assert tc.count(pg, user) == 4
    assert "telemetry commit failed" in stack.stderr("telemetryd")
