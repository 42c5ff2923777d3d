"""test_health.py - GET /healthz: all green, one backend killed (503 with that
one "down" and the others "ok", answered within the health deadline), and
green again once it is started again."""

import concurrent.futures
import signal
import time

import pytest

import sembark

ALL_OK = {"status": "ok", "services": {"authd": "ok", "telemetryd": "ok", "logd": "ok"}}


def test_healthz_all_ok(shared_stack):
    r = shared_stack.get("/healthz")
    assert r.status_code == 200, (r.status_code, r.text)
    assert r.headers.get("Content-Type", "").startswith("application/json"), r.headers
    assert r.json() == ALL_OK


def test_healthz_head_or_get_only(shared_stack):
    # a HEAD, if allowed at all, must not carry a body and must not be a 500
    r = shared_stack.request("HEAD", "/healthz")
    assert r.status_code in (200, 405), r.status_code
    assert r.content == b""


@pytest.mark.parametrize("victim", sembark.BACKENDS)
def test_healthz_backend_down_and_back(stack, victim):
    pid_before = {n: stack.pid(n) for n in sembark.DAEMONS}
    stack.kill(victim)

    def down():
        st, body, dt = stack.health(timeout=5)
        assert dt < 2.5, "/healthz took %.2fs with %s dead (health deadline ~1s)" % (dt, victim)
        return (st, body) if st == 503 else None

    st, body = sembark.wait_until(down, 4, interval=0.1, what="/healthz 503 after kill -9 " + victim)
    assert isinstance(body, dict), body
    assert body.get("status") != "ok", body
    expected = {n: ("down" if n == victim else "ok") for n in sembark.BACKENDS}
    assert body.get("services") == expected, body

    # answered within the deadline every time while it stays down
    for _ in range(3):
        st, body, dt = stack.health(timeout=5)
        assert st == 503 and dt < 2.5, (st, body, dt)

    stack.start(victim)
    t0 = time.monotonic()
    stack.wait_healthy(timeout=10)
    r = stack.get("/healthz")
    assert r.status_code == 200 and r.json() == ALL_OK, (r.status_code, r.text)
    # the other daemons were not restarted
    for n in sembark.DAEMONS:
        if n != victim:
            assert stack.pid(n) == pid_before[n], n
    assert time.monotonic() - t0 < 10


def test_healthz_two_down(stack):
    stack.kill("authd")
    stack.kill("telemetryd")

    def down():
        st, body, dt = stack.health(timeout=5)
        assert dt < 2.5, dt
        return body if st == 503 and body and body.get("services", {}).get("telemetryd") == "down" \
            and body["services"].get("authd") == "down" else None

    body = sembark.wait_until(down, 4, interval=0.1, what="/healthz 503 with two backends down")
    assert body["services"] == {"authd": "down", "telemetryd": "down", "logd": "ok"}, body


def test_healthz_concurrent_requests_while_backend_down(stack):
    """Many /healthz at once while authd is SIGSTOPped: every one answers 503
    within about the deadline; none waits for the others' deadlines in turn."""
    stack.send_signal("authd", signal.SIGSTOP)
    try:
        def one(_):
            return stack.health(timeout=10)
        t0 = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(max_workers=16) as ex:
            res = list(ex.map(one, range(16)))
        total = time.monotonic() - t0
        for st, body, dt in res:
            assert st == 503, (st, body)
            assert body["services"]["authd"] == "down", body
            assert dt < 3, dt
        assert total < 4, "16 concurrent /healthz took %.1fs" % total
    finally:
        stack.send_signal("authd", signal.SIGCONT)
    stack.wait_healthy(timeout=10)
