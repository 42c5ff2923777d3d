"""test_authd_instances.py - two sembark-authd instances behind two
sembark-ingressd instances, each ingress naming both in [ipc] authd (its
DEALER spreads requests over them, one after the other), every authd with
its session cache (services/authd/session_cache.c):

  - logout, revocation, a password change, a role change and member
    removal take effect at once through either ingress, whichever authd
    answers and whatever it had cached (NOTIFY, migrations/0007);
  - a lost notification connection empties that authd's cache and keeps
    it unused until the connection is back (a change it could not hear of
    still takes effect);
  - an authd killed in the middle of requests: the requests it held are
    answered 503 at once (ingress sees the connection close), the other's
    as usual; then the other serves everything.

Each check makes 8 requests in a row through one ingress: with two
instances, both answer some of them, so both caches are exercised."""

import signal
import time

import pytest

import sembark
from client import PASSWORD, Bearer, Browser
from test_db_nonblocking import Locked, in_thread, waiting_backends

N = 8  # requests per check: both instances answer some


@pytest.fixture(scope="module")
def st(make_shared_stack):
    s = make_shared_stack()
    s.add_authd("authd2")
    both = {"ipc": {"authd": s.authd_endpoints("authd", "authd2")}}
    s.add_ingress("ingressd2", config=both)
    s.add_ingress("ingressd3", config=both)
    return s


def url(st, n):
    return st.ingress_url("ingressd%d" % n)


def browser(st, n):
    return Browser(url(st, n), origin=st.origin)


def statuses(st, n, token):
    """GET /api/me N times through ingress n with a Bearer token."""
    with Bearer(url(st, n), token) as b:
        return [b.get("/api/me").status_code for _ in range(N)]


def warm(st, token):
    """Every instance has the session cached (and it is alive)."""
    for n in (2, 3):
        assert statuses(st, n, token) == [200] * N


def signed_up(st):
    b = browser(st, 2)
    b.signup()
    return b


def test_both_ingresses_serve_a_session(st):
    b = signed_up(st)
    warm(st, b.token)


def test_logout_is_seen_at_once_everywhere(st):
    b = signed_up(st)
    tok = b.token
    warm(st, tok)
    b.logout()
    assert statuses(st, 3, tok) == [401] * N
    assert statuses(st, 2, tok) == [401] * N


def signed_in_twice(st):
    """An account signed up through ingressd2 and logged in again through
    ingressd3, that second session cached by every instance."""
    a = signed_up(st)
    other = browser(st, 3)
    other.login(a.email, a.password)
    warm(st, other.token)
    return a, other


def test_revocation_is_seen_at_once_everywhere(st):
    a, other = signed_in_twice(st)
    sid = [s for s in a.get("/api/sessions").json()["sessions"] if not s["current"]][0]["id"]
    r = a.delete("/api/sessions/%s" % sid)
    assert r.status_code == 204, r.text
    assert statuses(st, 3, other.token) == [401] * N
    assert statuses(st, 2, a.token) == [200] * N


def test_password_change_is_seen_at_once_everywhere(st):
    a, other = signed_in_twice(st)
    warm(st, a.token)
    r = a.post("/api/password", {"current_password": PASSWORD,
                                 "new_password": "another long passphrase 31"})
    assert r.status_code == 204, r.text
    assert statuses(st, 3, other.token) == [401] * N
    assert statuses(st, 3, a.token) == [200] * N


def test_role_change_and_removal_are_seen_at_once_everywhere(st):
    owner = signed_up(st)
    member = browser(st, 3)
    member.join(owner.invite_url)
    warm(st, member.token)
    owner.set_role(member.user["id"], "admin")
    with Bearer(url(st, 3), member.token) as b:
        roles = [b.get("/api/me").json()["user"]["role"] for _ in range(N)]
    assert roles == ["admin"] * N
    r = owner.delete("/api/team/members/%s" % member.user["id"])
    assert r.status_code == 204, r.text
    assert statuses(st, 3, member.token) == [401] * N
    assert statuses(st, 2, member.token) == [401] * N


def listener_pids(pg):
    return [r[0] for r in pg.query(
        "SELECT pid FROM pg_stat_activity WHERE application_name = 'sembark-authd'"
        " AND query LIKE 'LISTEN%'")]


def test_lost_notifications_empty_the_cache(make_stack):
    s = make_stack()
    b = Browser(s)
    b.signup()
    tok = b.token
    with Bearer(s, tok) as n:
        assert n.get("/api/me").status_code == 200  # cached now
    sembark.wait_until(lambda: "session cache in use" in s.stderr("authd"), 10,
                       what="authd listening")
    s.pg.query("ALTER ROLE sembark_authd NOLOGIN")  # the listener cannot come back
    try:
        # every stack of the session shares the cluster: end every authd's listener
        for pid in listener_pids(s.pg):
            s.pg.query("SELECT pg_terminate_backend(%s)", (pid,))
        sembark.wait_until(lambda: "session cache off" in s.stderr("authd"), 10,
                           what="authd to notice the lost listener")
        # a change authd cannot hear of: the row goes behind its back
        s.pg.query("DELETE FROM sessions WHERE user_id = %s", (b.user["id"],))
        with Bearer(s, tok) as n:
            assert [n.get("/api/me").status_code for _ in range(3)] == [401] * 3
    finally:
        s.pg.query("ALTER ROLE sembark_authd LOGIN")
    sembark.wait_until(lambda: s.stderr("authd").count("session cache in use") >= 2, 15,
                       what="the listener back and the cache in use again")
    b.login(b.email, b.password)
    with Bearer(s, b.token) as n:
        assert [n.get("/api/me").status_code for _ in range(3)] == [200] * 3


def test_an_instance_killed_mid_request(make_stack, pg):
    """Logins stuck behind a lock on login_failures in both instances; authd2
    is killed: the requests it held are answered 503 at once (ingressd sees
    the connection close), while authd's are still stuck, not when ingress's
    30 s wait ends; once the lock goes, authd's are answered 200; then authd
    serves everything."""
    s = make_stack(config={"auth": {"bcrypt_cost": "10"},
                           "database": {"statement_timeout_ms": "30000"},
                           "ingress": {"rpc_timeout_ms": "30000"}})
    s.add_authd("authd2")
    s.add_ingress("ingressd2", config={"ipc": {"authd": s.authd_endpoints("authd", "authd2")}})
    owners = [Browser(s.ingress_url("ingressd2"), origin=s.origin) for _ in range(4)]
    for o in owners:
        o.signup()
    assert "team created" in s.stderr("authd2"), "ingressd2 sends nothing to authd2"

    def login(o):
        b = Browser(s.ingress_url("ingressd2"), origin=s.origin)
        return b.post("/api/login", {"email": o.email, "password": o.password},
                      timeout=40).status_code

    lock = Locked(pg, "login_failures")
    try:
        calls = [in_thread(lambda o=o: login(o)) for o in owners]
        sembark.wait_until(lambda: waiting_backends(pg) >= 3, 10,
                           what="the logins to wait for the lock in both instances")
        s.daemons["authd2"].expected_exit = True
        s.stop("authd2", signal.SIGKILL, timeout=5)
        sembark.wait_until(lambda: any(not t.is_alive() for t, _ in calls), 10,
                           what="the killed instance's logins to be answered")
        time.sleep(1)  # its other logins, answered at the same moment, are in too
        early = [out.get("r", out.get("e")) for t, out in calls if not t.is_alive()]
        assert early and all(code == 503 for code in early), early
        assert any(t.is_alive() for t, _ in calls), "the survivor's logins did not wait for the lock"
    finally:
        lock.release()
    for t, _ in calls:
        t.join(40)
    codes = [out.get("r", out.get("e")) for _, out in calls]
    # the survivor's logins, stuck until the lock went, succeeded
    assert set(codes) <= {200, 503} and codes.count(200) >= 1, codes
    # from now on the survivor answers everything
    with Bearer(s.ingress_url("ingressd2"), owners[0].token) as n:
        assert [n.get("/api/me").status_code for _ in range(N)] == [200] * N
