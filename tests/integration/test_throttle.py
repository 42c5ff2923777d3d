"""test_throttle.py - API.md "Accounts: Login throttling" against the real
daemons. Per email (authd, kept in PostgreSQL): after 5 failed logins for
one email within 60 s further attempts get 429 too_many_requests with
Retry-After, even with the right password, for login and token alike;
unknown emails the same; a success clears the count; at most 50 failures
an hour; shared by every authd instance. Per client address (ingressd,
[ingress] client_rate_limit = 3 here): the 4th sign-up / login / token /
invite request of an address within the minute is 429 with Retry-After,
other addresses and other routes are not limited; and the address is
never stored (every table scanned) or logged (ingressd and authd stderr).
Unhappy paths first."""

import hashlib
import itertools
import uuid

import pytest

import sembark
from client import PASSWORD, Browser, invite_code, json_error, new_email, post_token

LIMIT = 3
_addr = itertools.count(1)


def source():
    """A loopback address of its own (a client-rate budget of its own)."""
    n = next(_addr)
    return "127.31.%d.%d" % (n // 250, n % 250 + 2)


def throttled(r):
    json_error(r, "too_many_requests", 429)
    ra = r.headers.get("Retry-After")
    assert ra is not None and ra.isdigit() and int(ra) >= 1, r.headers
    return int(ra)


def fail(base, email, n, via="login"):
    for i in range(n):
        if via == "login":
            r = Browser(base).login(email, "wrong password %d!" % i, expect=None)
        else:
            r = post_token(base, email, "wrong password %d!" % i, "d")
        json_error(r, "invalid_credentials", 401)


# ---- per email --------------------------------------------------------------------------------

def test_sixth_attempt_429_even_with_right_password(shared_stack):
    a = Browser(shared_stack)
    a.signup()
    fail(shared_stack, a.email, 3)
    fail(shared_stack, a.email, 2, via="token")
    b = Browser(shared_stack)
    ra = throttled(b.login(a.email, PASSWORD, expect=None))
    assert ra <= 60, ra
    assert b.token is None
    throttled(post_token(shared_stack, a.email, PASSWORD, "d"))
    throttled(Browser(shared_stack).login(a.email.upper(), "wrong again!", expect=None))
    # the live session is not touched; another account is not throttled
    assert a.me().status_code == 200
    c = Browser(shared_stack)
    c.signup()
    Browser(shared_stack).login(c.email, PASSWORD)


def test_unknown_email_throttled_alike(shared_stack):
    email = new_email("it-nobody")
    fail(shared_stack, email, 5)
    throttled(Browser(shared_stack).login(email, PASSWORD, expect=None))
    throttled(post_token(shared_stack, email, PASSWORD, "d"))


def test_success_clears_count(shared_stack):
    a = Browser(shared_stack)
    a.signup()
    for _ in range(3):
        fail(shared_stack, a.email, 4)
        Browser(shared_stack).login(a.email, PASSWORD)  # would be the 5th/9th/13th
    fail(shared_stack, a.email, 4)
    r = post_token(shared_stack, a.email, PASSWORD, "d")  # a token is a success too
    assert r.status_code == 201, r.text
    fail(shared_stack, a.email, 4)
    Browser(shared_stack).login(a.email, PASSWORD)


def test_validation_errors_do_not_count(shared_stack):
    a = Browser(shared_stack)
    a.signup()
    for _ in range(8):
        json_error(Browser(shared_stack).post("/api/login", {"email": a.email}), "validation_failed", 422)
    Browser(shared_stack).login(a.email, PASSWORD)


def test_throttle_ends_with_the_window(shared_stack):
    """429 for the rest of the window, then the right password works again
    (the failures are moved 61 s into the past instead of waiting)."""
    a = Browser(shared_stack)
    a.signup()
    fail(shared_stack, a.email, 5)
    ra = throttled(Browser(shared_stack).login(a.email, PASSWORD, expect=None))
    assert 1 <= ra <= 60
    key = hashlib.sha256(a.email.encode()).digest()
    n = shared_stack.pg.query("UPDATE login_failures SET at = at - interval '61 seconds' "
                              "WHERE email_hash = %s RETURNING 1", (key,))
    assert len(n) == 5, n  # the refused attempt was not counted as a failure
    Browser(shared_stack).login(a.email, PASSWORD)
    assert shared_stack.pg.query("SELECT count(*) FROM login_failures WHERE email_hash = %s",
                                 (key,))[0][0] == 0


def test_hour_limit(shared_stack):
    """50 failures within the hour (older than a minute, so the 60 s rule
    does not apply) refuse the next attempt. The failures are put in
    login_failures directly (SHA-256 of the normalised email, as authd
    keeps them) so the test need not take an hour."""
    a = Browser(shared_stack)
    a.signup()
    key = hashlib.sha256(a.email.encode()).digest()
    shared_stack.pg.query(
        "INSERT INTO login_failures (email_hash, at) "
        "SELECT %s, now() - make_interval(secs => 120 + i * 60) FROM generate_series(0, 48) i", (key,))
    # 49 in the hour: one more failure is still allowed
    fail(shared_stack, a.email, 1)
    ra = throttled(Browser(shared_stack).login(a.email, PASSWORD, expect=None))
    assert 60 < ra <= 3600, ra


def test_shared_by_every_authd(shared_stack, make_stack):
    """Failures counted by one authd refuse the attempt at another (two
    stacks on one database)."""
    other = make_stack()
    a = Browser(shared_stack)
    a.signup()
    fail(shared_stack, a.email, 3)
    fail(other, a.email, 2)
    throttled(Browser(shared_stack).login(a.email, PASSWORD, expect=None))
    throttled(Browser(other).login(a.email, PASSWORD, expect=None))


def test_password_change_not_a_bypass(shared_stack):
    """A throttled email cannot be used to change the password either."""
    a = Browser(shared_stack)
    a.signup()
    fail(shared_stack, a.email, 5)
    r = a.post("/api/password", {"current_password": PASSWORD, "new_password": "a different passphrase"})
    throttled(r)
    throttled(Browser(shared_stack).login(a.email, "a different passphrase", expect=None))


# ---- per client address -----------------------------------------------------------------------

@pytest.fixture(scope="module")
def limited(make_shared_stack):
    return make_shared_stack(env={"SEMBARK_INGRESS_CLIENT_RATE_LIMIT": str(LIMIT)})


def owner_of(stack):
    """A team made from an address of its own (its sign-up counts there)."""
    o = Browser(stack, source=source())
    o.signup()
    return o


def requests_of(kind, stack, owner):
    """A function making one request of kind from a browser."""
    code = invite_code(owner.invite_url)

    def do(b):
        if kind == "signup":
            return b.post("/api/teams", {"team_name": "R", "name": "R", "email": new_email("it-rate"),
                                         "password": PASSWORD})
        if kind == "login":
            return b.post("/api/login", {"email": owner.email, "password": PASSWORD})
        if kind == "token":
            return b.post("/api/tokens", {"email": owner.email, "password": PASSWORD,
                                          "device_name": "d"}, csrf=False)
        if kind == "invite":
            return b.get("/api/invites/%s" % code)
        if kind == "guess":  # guessing invite codes: 404s count as much
            return b.get("/api/invites/%s" % uuid.uuid4().hex)
        if kind == "accept":
            return b.post("/api/invites/%s/accept" % code, {"name": "R", "email": new_email("it-rate"),
                                                            "password": PASSWORD})
        raise AssertionError(kind)
    return do


@pytest.mark.parametrize("kind", ["signup", "login", "token", "invite", "guess", "accept"])
def test_client_rate_limit(limited, kind):
    owner = owner_of(limited)
    do = requests_of(kind, limited, owner)
    b = Browser(limited, source=source())
    ok = (404,) if kind == "guess" else (200, 201)
    for i in range(LIMIT):
        r = do(b)
        assert r.status_code in ok, (i, r.status_code, r.text)
    ra = throttled(do(b))
    assert ra <= 60 // LIMIT + 1, ra
    throttled(do(b))
    # another address is not limited at the same moment
    r = do(Browser(limited, source=source()))
    assert r.status_code in ok, (r.status_code, r.text)


def test_client_rate_limit_counts_all_routes(limited):
    owner = owner_of(limited)
    addr = source()
    b = Browser(limited, source=addr)
    assert requests_of("invite", limited, owner)(b).status_code == 200
    assert requests_of("token", limited, owner)(b).status_code == 201
    assert requests_of("login", limited, owner)(b).status_code == 200
    throttled(requests_of("signup", limited, owner)(b))
    throttled(Browser(limited, source=addr).post("/api/login", {"email": owner.email,
                                                                "password": PASSWORD}))
    # routes outside the list are not limited: the logged-in browser goes on
    for _ in range(2 * LIMIT):
        assert b.me().status_code == 200
        assert b.get("/api/team").status_code == 200
        assert b.get("/api/sessions").status_code == 200
        assert b.http.get(b.url("/api/csrf"), timeout=10).status_code == 204
        assert b.http.get(b.url("/healthz"), timeout=10).status_code == 200
    assert b.post("/api/sessions/revoke-others").status_code == 204
    assert b.logout().status_code == 204


def test_client_rate_429_before_other_checks(limited):
    """A limited address is told 429 whatever else is wrong with the request."""
    b = Browser(limited, source=source())
    for _ in range(LIMIT):
        json_error(b.post("/api/login", {}), "validation_failed", 422)
    throttled(b.post("/api/login", {}))
    throttled(b.post("/api/login", {}, csrf=False))
    throttled(b.post("/api/login", {}, headers={"Origin": "https://evil.example"}))


def test_address_never_stored_or_logged(limited, pg):
    owner = owner_of(limited)
    used = []
    for kind in ("signup", "login", "token", "invite", "accept"):
        addr = source()
        used.append(addr)
        b = Browser(limited, source=addr)
        do = requests_of(kind, limited, owner)
        for _ in range(LIMIT + 1):
            do(b)
        b.post("/api/login", {"email": owner.email, "password": "wrong password!"})
    # let logd store what the daemons logged about all this
    marker = "it-throttle-%s" % new_email("m")
    Browser(limited).get("/api/invites/" + marker.replace("@", "-").replace(".", "-"))
    sembark.wait_until(lambda: pg.query("SELECT count(*) FROM logs WHERE service = 'ingressd' "
                                        "AND at > now() - interval '1 minute'")[0][0] > 0,
                       10, interval=0.1, what="ingressd records in logs")
    sembark.wait_until(lambda: _logd_flushed(pg), 10, interval=0.2, what="logd to catch up")
    tables = [t for (t,) in pg.query(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition")]
    assert {"users", "sessions", "login_failures", "teams", "invites"} <= set(tables), tables
    for t in tables:
        for (text,) in pg.query('SELECT t::text FROM public."%s" t' % t.replace('"', '""')):
            for addr in used:
                assert addr not in text, "address %s stored in %s: %r" % (addr, t, text[:300])
            assert "127.31." not in text, (t, text[:300])
    for name in ("ingressd", "authd"):
        err = limited.stderr(name)
        assert err, name
        for addr in used:
            assert addr not in err, "address %s in %s's stderr" % (addr, name)
        assert "127.31." not in err
        found = [a for a in sembark.find_ip_addresses(err) if not a.startswith("::")]
        assert found == [], "%s logged addresses: %r" % (name, found[:5])


def _logd_flushed(pg):
    """Two reads of the logs count a moment apart agree (logd is idle)."""
    import time
    a = pg.query("SELECT count(*) FROM logs")[0][0]
    time.sleep(0.2)
    return pg.query("SELECT count(*) FROM logs")[0][0] == a
