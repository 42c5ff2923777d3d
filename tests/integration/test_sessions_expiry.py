"""test_sessions_expiry.py - API.md "Sessions": the absolute lifetime
([auth] session_lifetime, counted from creation: after it the token
answers 401 unauthenticated whatever its use in between; the cookie's
Max-Age never exceeds it) and the idle timeout ([auth]
session_idle_timeout: a session unused that long dies; one in use stays).
Short values through SEMBARK_AUTH_* variables, one stack each."""

import time

import pytest

from client import PASSWORD, Bearer, Browser, json_error, set_cookies
from test_sessions import epoch

LIFETIME = 3
IDLE = 2


@pytest.fixture(scope="module")
def short_life(make_shared_stack):
    return make_shared_stack(env={"SEMBARK_AUTH_SESSION_LIFETIME": str(LIFETIME)})


@pytest.fixture(scope="module")
def short_idle(make_shared_stack):
    return make_shared_stack(env={"SEMBARK_AUTH_SESSION_IDLE_TIMEOUT": str(IDLE)})


def sleep_until(t):
    d = t - time.time()
    if d > 0:
        time.sleep(d)


def test_lifetime_is_absolute(short_life):
    st = short_life
    a = Browser(st)
    r = a.signup()
    c = set_cookies(r)["sembark_session"]
    assert 0 < int(c.get("max-age")) <= LIFETIME, c
    n = a.bearer("cli")
    me = a.me().json()["session"]
    created, expires = epoch(me["created_at"]), epoch(me["expires_at"])
    assert abs(expires - created - LIFETIME) < 0.5, me
    nexp = n.get("/api/me").json()["session"]["expires_at"]
    tok = n.token
    # in use all along: alive until the end of its life. The cookie goes by
    # hand: the client's jar rounds Max-Age to whole seconds of its own clock
    cookie = {"Cookie": "sembark_session=" + c.value}
    while time.time() < expires - 0.6:
        assert a.get("/api/me", headers=cookie).status_code == 200
        assert n.get("/api/me").status_code == 200
        time.sleep(0.4)
    sleep_until(expires + 0.3)
    r = a.get("/api/me", headers=cookie)
    json_error(r, "unauthenticated", 401)
    assert set_cookies(r)["sembark_session"].value == "", "the dead cookie was not cleared"
    sleep_until(epoch(nexp) + 0.3)
    json_error(Bearer(st, tok).get("/api/me"), "unauthenticated", 401)
    # every route, not just /api/me
    for path in ("/api/team", "/api/sessions"):
        json_error(Bearer(st, tok).get(path), "unauthenticated", 401)
    json_error(Bearer(st, tok).post("/api/sessions/revoke-others"), "unauthenticated", 401)
    # a fresh login works
    a.login(a.email, PASSWORD)
    assert a.me().status_code == 200


def test_token_expires_at(short_life):
    a = Browser(short_life)
    a.signup()
    t0 = time.time()
    r = Browser(short_life).post("/api/tokens", {"email": a.email, "password": PASSWORD,
                                                 "device_name": "d"}, csrf=False)
    assert r.status_code == 201, r.text
    exp = epoch(r.json()["expires_at"])
    assert t0 - 1 < exp - LIFETIME < time.time() + 1, (r.json(), t0)


def test_idle_timeout(short_idle):
    st = short_idle
    a = Browser(st)
    a.signup()
    idle = Browser(st)
    idle.login(a.email, PASSWORD)
    n = a.bearer("idle cli")
    start = time.time()
    # `a` in use every 0.4 s for well over the idle timeout: stays alive
    while time.time() < start + 1.5 * IDLE + 0.3:
        r = a.me()
        assert r.status_code == 200, "a session in use died after %.1f s: %s" % (time.time() - start, r.text)
        time.sleep(0.4)
    # the unused ones are dead (their lifetime is a day)
    json_error(idle.me(), "unauthenticated", 401)
    json_error(n.get("/api/me"), "unauthenticated", 401)
    ids = [s["id"] for s in a.get("/api/sessions").json()["sessions"]]
    assert ids == [a.session_id()], ids
    # unused for the idle timeout after some use: dead too
    b = Browser(st)
    b.login(a.email, PASSWORD)
    assert b.me().status_code == 200
    time.sleep(IDLE + 0.5)
    json_error(b.me(), "unauthenticated", 401)
