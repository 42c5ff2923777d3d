"""test_sessions.py - API.md "Sessions" against the real daemons: the session
cookie (name, 40 lowercase hex, HttpOnly, SameSite=Lax, Path=/, no Secure
over plain HTTP, Max-Age within the remaining life), GET /api/me, logout
(cookie cleared, the token dead as cookie and as Bearer), the session
list (shape, `current`, never a token or its hash), revoking one session
(another user's id: 404), revoke-others, password change ending every
other session, only a hash at rest, a new token at every login; and that
logout, revocation, password change and member removal end sessions at
once on a second ingressd instance. Unhappy paths first. One stack with
two ingresses for the module.

Expiry and idle timeout: test_sessions_expiry.py."""

import base64
import calendar
import hashlib
import json
import secrets
import time

import pytest

import sembark

from client import (HEX40, PASSWORD, RFC3339, Bearer, Browser, json_error, make_team, new_email,
                    post_token, set_cookies, sha256_hex)


@pytest.fixture(scope="module")
def st(make_shared_stack):
    s = make_shared_stack()
    s.add_ingress("ingressd2")
    return s


@pytest.fixture(scope="module")
def b_url(st):
    """Base URL of the second ingress (same backends, same public origin)."""
    return st.ingress_url("ingressd2")


def epoch(ts):
    assert RFC3339.match(ts), ts
    base, _, frac = ts.rstrip("Z").partition(".")
    return calendar.timegm(time.strptime(base, "%Y-%m-%dT%H:%M:%S")) + float("0." + (frac or "0"))


def cookie_header(token):
    return {"Cookie": "sembark_session=" + token}


def replay(base, token, origin=None):
    """A browser that holds token in its session cookie and a CSRF token bound
    to it (as a browser with a stale cookie would after GET /api/csrf)."""
    b = Browser(base, origin=origin)
    b.http.cookies.set("sembark_session", token, domain="127.0.0.1", path="/")
    b.csrf()
    return b


def dead(base, token):
    """The token answers 401 unauthenticated as a cookie and as Bearer."""
    with Browser(base) as b:
        json_error(b.get("/api/me", headers=cookie_header(token)), "unauthenticated", 401)
    with Bearer(base, token) as n:
        json_error(n.get("/api/me"), "unauthenticated", 401)
    return True


def alive(base, token):
    with Bearer(base, token) as n:
        r = n.get("/api/me")
        assert r.status_code == 200, (r.status_code, r.text)
    return True


def scan_for_secrets(text, tokens):
    """Every token, or hash of one, that text shows."""
    low = text.lower()
    bad = []
    for t in tokens:
        h = sha256_hex(t)
        b64 = base64.b64encode(hashlib.sha256(t.encode()).digest()).decode()
        for s in (t, h, b64, b64.rstrip("="), "\\\\x" + h):
            if s.lower() in low:
                bad.append(s)
    return bad


# ---- unauthenticated answers ------------------------------------------------------------

SESSION_ROUTES = [("GET", "/api/me"), ("GET", "/api/team"), ("GET", "/api/team/invite"),
                  ("GET", "/api/sessions"), ("POST", "/api/logout"), ("POST", "/api/password"),
                  ("POST", "/api/team/invite/rotate"),
                  ("PATCH", "/api/team/members/00000000-0000-4000-8000-000000000000"),
                  ("DELETE", "/api/team/members/00000000-0000-4000-8000-000000000000"),
                  ("DELETE", "/api/sessions/00000000-0000-4000-8000-000000000000"),
                  ("POST", "/api/sessions/revoke-others")]


@pytest.mark.parametrize("method,path", SESSION_ROUTES)
def test_session_required_401(st, method, path):
    body = {} if method in ("POST", "PATCH") else None
    b = Browser(st)
    json_error(b.request(method, path, body), "unauthenticated", 401)
    for tok in (secrets.token_hex(20), secrets.token_hex(20).upper(), secrets.token_hex(19),
                secrets.token_hex(21), "g" * 40, ""):
        with replay(st, tok) as c:
            json_error(c.request(method, path, body), "unauthenticated", 401)
        json_error(b.request(method, path, body, csrf=False, headers={"Authorization": "Bearer " + tok}),
                   "unauthenticated", 401)
    json_error(b.request(method, path, body, csrf=False, headers={"Authorization": "Basic Zm9vOmJhcg=="}),
               "unauthenticated", 401)


# ---- the cookie ---------------------------------------------------------------------------

def check_session_cookie(r, lifetime=86400):
    t_recv = time.time()
    sc = set_cookies(r)
    c = sc.get("sembark_session")
    assert c is not None, "no sembark_session cookie: %r" % list(sc)
    assert "__Host-sembark_session" not in sc
    assert HEX40.match(c.value), c
    assert c.has("httponly"), c
    assert (c.get("samesite") or "").lower() == "lax", c
    assert c.get("path") == "/", c
    assert not c.has("secure"), "Secure over plain HTTP: %r" % c
    assert c.get("domain") is None, c
    ma = c.get("max-age")
    assert ma is not None and ma.isdigit(), "no Max-Age: %r" % c
    with Bearer(r.url.split("/api/")[0], c.value) as n:
        me = n.get("/api/me").json()
    remaining = epoch(me["session"]["expires_at"]) - t_recv
    # the cookie never outlives the session: Max-Age <= remaining life at receipt
    assert 0 < int(ma) <= remaining, "Max-Age %s, remaining life %.3f s" % (ma, remaining)
    assert int(ma) <= lifetime
    assert int(ma) >= lifetime - 60, (ma, lifetime)  # not needlessly short
    return c.value


def test_session_cookie_attributes(st):
    owner = Browser(st)
    r = owner.signup()
    t1 = check_session_cookie(r)
    m = Browser(st)
    t2 = check_session_cookie(m.join(owner.invite_url))
    t3 = check_session_cookie(owner.login())
    assert len({t1, t2, t3}) == 3


def test_me_shape(st):
    b = Browser(st)
    b.signup(team_name="Me Team", name="Me Myself")
    r = b.me()
    assert r.status_code == 200, r.text
    assert r.headers.get("Cache-Control") == "no-store"
    j = r.json()
    assert set(j) == {"user", "team", "session"}, j
    assert set(j["user"]) == {"id", "email", "name", "role"}, j
    assert j["user"] == {"id": b.user["id"], "email": b.email, "name": "Me Myself", "role": "owner"}
    assert j["team"] == {"id": b.team["id"], "name": "Me Team"}
    assert set(j["session"]) == {"id", "created_at", "expires_at"}, j
    s = j["session"]
    assert isinstance(s["id"], str) and s["id"] and s["id"] != b.token
    assert abs(epoch(s["expires_at"]) - epoch(s["created_at"]) - 86400) < 1, s
    assert abs(epoch(s["created_at"]) - time.time()) < 60, s


# ---- logout -------------------------------------------------------------------------------

def test_logout(st, b_url):
    b = Browser(st)
    b.signup()
    tok = b.token
    r = b.logout()
    assert r.content == b""
    sc = set_cookies(r)
    c = sc.get("sembark_session")
    assert c is not None, "logout did not clear the cookie: %r" % list(sc)
    assert c.value == "" and (c.get("max-age") == "0" or "1970" in str(c.get("expires"))), c
    assert b.token is None
    assert dead(st, tok) and dead(b_url, tok)
    json_error(b.logout(expect=None), "unauthenticated", 401)
    # a replayed cookie cannot log out (or do anything) again
    with replay(st, tok) as c:
        json_error(c.post("/api/logout"), "unauthenticated", 401)


def test_logout_bearer(st, b_url):
    b = Browser(st)
    b.signup()
    n = b.bearer("cli")
    r = n.post("/api/logout")
    assert r.status_code == 204, r.text
    assert set_cookies(r) == {}, "a Bearer request got cookies"
    assert dead(st, n.token) and dead(b_url, n.token)
    assert b.me().status_code == 200  # the browser's session is another one


# ---- session list ---------------------------------------------------------------------------

def test_sessions_list_shape_and_current(st):
    a = Browser(st)
    a.signup()
    b = Browser(st)
    b.login(a.email, PASSWORD)
    n = a.bearer("my laptop")
    ids = {}
    for who in (a, b, n):
        ids[who] = who.get("/api/me").json()["session"]["id"]
    assert len(set(ids.values())) == 3
    for who in (a, b, n):
        r = who.get("/api/sessions")
        assert r.status_code == 200, r.text
        assert r.headers.get("Cache-Control") == "no-store"
        j = r.json()
        assert set(j) == {"sessions"}, j
        ss = j["sessions"]
        assert len(ss) == 3, ss
        for s in ss:
            assert set(s) == {"id", "created_at", "expires_at", "last_used_at", "device_name",
                              "current"}, s
            for k in ("created_at", "expires_at", "last_used_at"):
                assert RFC3339.match(s[k]), s
            assert isinstance(s["device_name"], str) and s["device_name"], s
            assert isinstance(s["current"], bool), s
        assert [s["id"] for s in ss if s["current"]] == [ids[who]], ss
        assert {s["id"] for s in ss} == set(ids.values())
        assert [s["device_name"] for s in ss if s["id"] == ids[n]] == ["my laptop"]


def test_device_names_of_browser_sessions(st):
    """Sign-up, invite acceptance and login take an optional device_name
    (what the web client sends, e.g. "Chrome on Linux"); without one the
    session is "browser"; a bad one is a field error."""
    def names(who):
        return sorted(x["device_name"] for x in who.get("/api/sessions").json()["sessions"])

    owner = Browser(st)
    email = new_email("it-device")
    r = owner.post("/api/teams", {"team_name": "Devices", "name": "Dee", "email": email,
                                  "password": PASSWORD, "device_name": "Firefox on Windows"})
    assert r.status_code == 201, r.text
    assert names(owner) == ["Firefox on Windows"]
    member = Browser(st)
    r = member.post("/api/invites/%s/accept" % r.json()["invite_url"].rsplit("/", 1)[1],
                    {"name": "Mo", "email": new_email("it-device"), "password": PASSWORD,
                     "device_name": "  Safari on iOS  "})
    assert r.status_code == 201, r.text
    assert names(member) == ["Safari on iOS"]
    plain = Browser(st)
    plain.login(email, PASSWORD)
    assert names(owner) == ["Firefox on Windows", "browser"]
    for bad in ("", "x" * 101, 7):
        r = Browser(st).post("/api/teams", {"team_name": "Devices", "name": "Dee", "email": new_email(),
                                            "password": PASSWORD, "device_name": bad})
        assert r.status_code == 422, (bad, r.status_code, r.text)
        assert "device_name" in r.json()["fields"], r.json()


def test_listings_never_show_a_token(st, b_url):
    owner, admin, member = make_team(st)
    n = owner.bearer("cli")
    tokens = [owner.token, admin.token, member.token, n.token]
    assert all(tokens)
    texts = []
    for who in (owner, admin, member, n):
        for path in ("/api/sessions", "/api/me", "/api/team"):
            r = who.get(path)
            assert r.status_code == 200, r.text
            texts.append(r.text + json.dumps(dict(r.headers)))
    for who in (owner, n):
        texts.append(who.get("/api/team/invite").text)
    # and the login answer's body names no token either (it is only in the cookie)
    r = Browser(st).login(owner.email, PASSWORD)
    tokens.append(set_cookies(r)["sembark_session"].value)
    texts.append(r.text)
    for text in texts:
        assert scan_for_secrets(text, tokens) == [], text[:500]


def test_delete_another_users_session_404(st):
    a, b = Browser(st), Browser(st)
    a.signup()
    b.join(a.invite_url)  # same team, another user
    c = Browser(st)
    c.signup()  # another team
    sid_b, sid_c = b.session_id(), c.session_id()
    for sid in (sid_b, sid_c, "00000000-0000-4000-8000-000000000000", "not-a-uuid",
                sid_b.upper(), sid_b[:-1]):
        json_error(a.delete("/api/sessions/%s" % sid), "not_found", 404)
        json_error(a.bearer("x").delete("/api/sessions/%s" % sid), "not_found", 404)
    assert b.me().status_code == 200 and c.me().status_code == 200
    # a path parameter that cannot be an id
    json_error(a.delete("/api/sessions/%s" % ("a" * 300)), "not_found", 404)
    json_error(a.delete("/api/sessions/%25"), "not_found", 404)


def test_delete_own_session(st, b_url):
    a = Browser(st)
    a.signup()
    other = Browser(st)
    other.login(a.email, PASSWORD)
    n = a.bearer("phone")
    sid_other, sid_n = other.session_id(), n.get("/api/me").json()["session"]["id"]
    r = a.delete("/api/sessions/%s" % sid_other)
    assert r.status_code == 204, r.text
    assert dead(st, other.token) and dead(b_url, other.token)
    json_error(a.delete("/api/sessions/%s" % sid_other), "not_found", 404)
    r = a.delete("/api/sessions/%s" % sid_n)
    assert r.status_code == 204, r.text
    assert dead(b_url, n.token)
    ids = [s["id"] for s in a.get("/api/sessions").json()["sessions"]]
    assert ids == [a.session_id()]
    # one's own current session: it ends too
    tok = a.token
    r = a.delete("/api/sessions/%s" % a.session_id())
    assert r.status_code == 204, r.text
    assert dead(st, tok)


def test_revoke_others_keeps_current_only(st, b_url):
    a = Browser(st)
    a.signup()
    others = [Browser(st) for _ in range(2)]
    for o in others:
        o.login(a.email, PASSWORD)
    n = a.bearer("tablet")
    other_team = Browser(st)
    other_team.signup()
    me = a.session_id()
    r = a.post("/api/sessions/revoke-others")
    assert r.status_code == 204, r.text
    for tok in [o.token for o in others] + [n.token]:
        assert dead(st, tok) and dead(b_url, tok)
    assert a.me().status_code == 200
    ss = a.get("/api/sessions").json()["sessions"]
    assert [(s["id"], s["current"]) for s in ss] == [(me, True)]
    assert other_team.me().status_code == 200
    # nothing left to revoke: still 204
    assert a.post("/api/sessions/revoke-others").status_code == 204


def test_password_change(st, b_url):
    a = Browser(st)
    a.signup()
    other = Browser(st)
    other.login(a.email, PASSWORD)
    n = a.bearer("desktop")
    mate = Browser(st)
    mate.join(a.invite_url)
    # wrong current password: refused, nothing changes
    r = a.post("/api/password", {"current_password": "not my password at all",
                                 "new_password": "a brand new password 1"})
    j = json_error(r, "validation_failed", 422)
    assert set(j["fields"]) == {"current_password"}, j
    assert alive(st, other.token) and alive(st, n.token)
    # right one: 204, every other session of the user ends, on both ingresses
    new = "a brand new password 1"
    r = a.post("/api/password", {"current_password": PASSWORD, "new_password": new})
    assert r.status_code == 204, r.text
    assert r.content == b""
    assert a.me().status_code == 200
    for tok in (other.token, n.token):
        assert dead(st, tok) and dead(b_url, tok)
    assert mate.me().status_code == 200  # another user's sessions stay
    json_error(Browser(st).login(a.email, PASSWORD, expect=None), "invalid_credentials", 401)
    Browser(st).login(a.email, new)
    ss = a.get("/api/sessions").json()["sessions"]
    assert sum(1 for s in ss if s["current"]) == 1


def test_login_again_with_a_dead_cookie(st):
    """A browser whose session was ended elsewhere still holds the cookie: it
    gets 401 (the cookie cleared), and can log in again at once."""
    a = Browser(st)
    a.signup()
    b = Browser(st)
    b.login(a.email, PASSWORD)
    assert a.post("/api/sessions/revoke-others").status_code == 204
    stale = Browser(st).with_cookies_of(b)
    r = b.me()
    json_error(r, "unauthenticated", 401)
    c = set_cookies(r).get("sembark_session")
    assert c is not None and c.value == "", "the dead cookie was not cleared: %r" % set_cookies(r)
    b.login(a.email, PASSWORD)
    assert b.me().status_code == 200
    # the same with the dead cookie still in the jar (an answer that was lost)
    stale.csrf()
    stale.login(a.email, PASSWORD)
    assert stale.me().status_code == 200


def test_last_used_at_at_most_once_a_minute(st):
    a = Browser(st)
    a.signup()
    sid = a.session_id()
    first = st.pg.query("SELECT last_used_at FROM sessions WHERE id = %s", (sid,))[0][0]
    for _ in range(5):
        assert a.me().status_code == 200
    time.sleep(0.3)  # a touch is written without waiting for it: give one time to land
    assert st.pg.query("SELECT last_used_at FROM sessions WHERE id = %s", (sid,))[0][0] == first, \
        "last_used_at written again within a minute"


def test_last_used_at_written_again_after_the_interval(make_stack):
    """With session_idle_timeout 10 s, last_used_at is written every second
    (idle_timeout / 10): a use after that is written (also when the session
    came from authd's cache), and the session list shows it."""
    s = make_stack(config={"auth": {"session_idle_timeout": "10"}})
    a = Browser(s)
    a.signup()
    sid = a.session_id()

    def used():
        return s.pg.query("SELECT last_used_at FROM sessions WHERE id = %s", (sid,))[0][0]
    first = used()
    assert a.me().status_code == 200  # cached from here on
    time.sleep(1.5)
    assert a.me().status_code == 200
    sembark.wait_until(lambda: used() > first, 5, interval=0.05,
                       what="last_used_at written after the interval")
    t1 = used()
    listed = [x for x in a.get("/api/sessions").json()["sessions"] if x["id"] == sid][0]
    assert abs(epoch(listed["last_used_at"]) - t1.timestamp()) < 0.01, (listed, t1)


# ---- at rest --------------------------------------------------------------------------------

def test_only_a_hash_at_rest(st):
    a = Browser(st)
    a.signup()
    n = a.bearer("x")
    for tok in (a.token, n.token):
        rows = st.pg.query("SELECT s::text FROM sessions s")
        assert rows
        assert not [r for r in rows if tok in r[0] or tok.upper() in r[0]]
        hashed = st.pg.query("SELECT count(*) FROM sessions WHERE token_hash = decode(%s, 'hex')",
                             (sha256_hex(tok),))[0][0]
        assert hashed == 1, "no session row holds sha256(token)"
    # nor anywhere else in the accounts tables
    for table in ("teams", "users", "invites", "login_failures"):
        for (text,) in st.pg.query("SELECT t::text FROM %s t" % table):
            assert a.token not in text and n.token not in text, table


def test_new_token_at_every_login(st):
    a = Browser(st)
    a.signup()
    seen = {a.token}
    b = Browser(st)
    for _ in range(3):
        b.login(a.email, PASSWORD)
        assert b.token not in seen
        seen.add(b.token)
    # a session cookie planted before login is never adopted (fixation)
    planted = secrets.token_hex(20)
    c = Browser(st)
    c.http.cookies.set("sembark_session", planted, domain="127.0.0.1", path="/")
    c.csrf()
    r = c.post("/api/login", {"email": a.email, "password": PASSWORD})
    assert r.status_code == 200, r.text
    assert set_cookies(r)["sembark_session"].value != planted
    assert st.pg.query("SELECT count(*) FROM sessions WHERE token_hash = decode(%s, 'hex')",
                       (sha256_hex(planted),))[0][0] == 0
    # and a live session of another browser is not reused either
    d = Browser(st).with_cookies_of(b)
    old = d.token
    d.login(a.email, PASSWORD)
    assert d.token != old and alive(st, old)


# ---- a second ingress ----------------------------------------------------------------------

def test_second_ingress_sees_sessions(st, b_url):
    a = Browser(st)
    a.signup()
    b = Browser(b_url, origin=st.origin).with_cookies_of(a)
    r = b.me()
    assert r.status_code == 200 and r.json()["user"]["email"] == a.email, r.text
    # a login through the second ingress works on the first
    c = Browser(b_url, origin=st.origin)
    c.login(a.email, PASSWORD)
    assert alive(st, c.token)
    # the CSRF key is shared: the second ingress's token works on the first
    r = Browser(st).with_cookies_of(c).post("/api/sessions/revoke-others", csrf=c.xsrf)
    assert r.status_code == 204, r.text


def test_logout_ends_session_on_second_ingress(st, b_url):
    a = Browser(st)
    a.signup()
    b = Browser(b_url, origin=st.origin).with_cookies_of(a)
    assert b.me().status_code == 200
    tok = a.token
    a.logout()
    json_error(b.me(), "unauthenticated", 401)  # at once, no wait
    assert dead(b_url, tok)


def test_revocation_ends_session_on_second_ingress(st, b_url):
    a = Browser(st)
    a.signup()
    n = a.bearer("phone")
    assert alive(b_url, n.token)
    sid = n.get("/api/me").json()["session"]["id"]
    assert a.delete("/api/sessions/%s" % sid).status_code == 204
    assert dead(b_url, n.token)
    m = a.bearer("phone 2")
    assert alive(b_url, m.token)
    assert a.post("/api/sessions/revoke-others").status_code == 204
    assert dead(b_url, m.token)


def test_password_change_ends_sessions_on_second_ingress(st, b_url):
    a = Browser(st)
    a.signup()
    other = Browser(b_url, origin=st.origin)
    other.login(a.email, PASSWORD)
    assert other.me().status_code == 200
    r = a.post("/api/password", {"current_password": PASSWORD, "new_password": "another long passphrase"})
    assert r.status_code == 204, r.text
    json_error(other.me(), "unauthenticated", 401)
    assert Browser(b_url, origin=st.origin).with_cookies_of(a).me().status_code == 200


def test_member_removal_ends_sessions_on_second_ingress(st, b_url):
    owner, admin, member = make_team(st)
    n = member.bearer("member phone")
    on_b = Browser(b_url, origin=st.origin).with_cookies_of(member)
    assert on_b.me().status_code == 200 and alive(b_url, n.token)
    r = owner.delete("/api/team/members/%s" % member.user["id"])
    assert r.status_code == 204, r.text
    json_error(on_b.me(), "unauthenticated", 401)
    assert dead(b_url, n.token) and dead(st, n.token)
    # the account is gone: no login either
    json_error(Browser(b_url, origin=st.origin).login(member.email, PASSWORD, expect=None),
               "invalid_credentials", 401)


def test_http_on_both_ingresses_same_answers(st, b_url):
    """The second ingress is a full peer: the same checks answer the same."""
    for base in (st, b_url):
        b = Browser(base, origin=st.origin)
        json_error(b.post("/api/login", {"email": new_email(), "password": PASSWORD}, csrf=False),
                   "csrf_mismatch", 419)
        json_error(b.post("/api/login", {}, headers={"Origin": "https://evil.example"}),
                   "origin_mismatch", 403)
        r = post_token(base, new_email(), PASSWORD, "x")
        json_error(r, "invalid_credentials", 401)
