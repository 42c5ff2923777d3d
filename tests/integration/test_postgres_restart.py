"""test_postgres_restart.py - PostgreSQL goes away under a running stack:
/healthz says 503 with every database daemon "down", quickly, never hangs;
PostgreSQL comes back: /healthz is 200 again without restarting a daemon."""

import time

import pytest

import sembark


def test_postgres_restart(stack, pg):
    pids = {n: stack.pid(n) for n in sembark.DAEMONS}
    try:
        pg.stop("fast")

        def all_down():
            st, body, dt = stack.health(timeout=10)
            assert dt < 3, "/healthz took %.1fs with PostgreSQL stopped" % dt
            return body if st == 503 and body and body.get("services") == {
                "authd": "down", "telemetryd": "down", "logd": "down"} else None

        body = sembark.wait_until(all_down, 8, interval=0.2,
                                  what="/healthz 503 with authd, telemetryd, logd down")
        assert body.get("status") != "ok", body
        # still answering quickly while it stays down
        for _ in range(3):
            st, body, dt = stack.health(timeout=10)
            assert st == 503 and dt < 3, (st, body, dt)
    finally:
        if not pg.running:
            pg.start()
    t0 = time.monotonic()
    stack.wait_healthy(timeout=10)
    assert time.monotonic() - t0 < 10
    for n in sembark.DAEMONS:
        d = stack.daemons[n]
        assert d.running() and d.pid == pids[n], "sembark-%s restarted or died" % n


def stored(pg, marker):
    rows = pg.query("SELECT count(*) FROM logs WHERE message = %s", (marker,))
    return rows[0][0]


@pytest.mark.skipif(not sembark.have_zmq(), reason="python3-zmq/python3-msgpack not installed")
def test_postgres_restart_logs_kept(stack, pg):
    """A record sent to logd while PostgreSQL is away is stored once it is back
    (logd holds up to [logs] buffer_records), and new records are stored too."""
    sink = sembark.endpoint(stack, "log")
    marker = "it-pgdown-%d" % int(time.time() * 1000)
    try:
        pg.stop("fast")
        sembark.wait_until(lambda: stack.health(timeout=10)[0] == 503, 8, interval=0.2, what="/healthz 503")
        sembark.push_frames(sink, [sembark.ipc_frame("log.record", sembark.log_record_body(marker))])
        time.sleep(0.5)  # several flush_ms rounds against a dead database
    finally:
        if not pg.running:
            pg.start()
    stack.wait_healthy(timeout=10)
    marker2 = marker.replace("pgdown", "pgup")
    sembark.push_frames(sink, [sembark.ipc_frame("log.record", sembark.log_record_body(marker2))])
    sembark.wait_until(lambda: stored(pg, marker2), 10, interval=0.2,
                       what="record %r in table logs after PostgreSQL came back" % marker2)
    n = sembark.wait_until(lambda: stored(pg, marker), 3, interval=0.2,
                           what="record %r (sent while PostgreSQL was down) in table logs" % marker)
    assert n == 1, "record stored %d times" % n
