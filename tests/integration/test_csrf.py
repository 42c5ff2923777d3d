"""test_csrf.py - API.md "CSRF" against the real daemons: GET /api/csrf and
its cookies; the X-XSRF-TOKEN check on sign-up, login, invite accept and
every cookie-authenticated POST/PATCH/DELETE (missing, forged, tampered,
taken from another browser, pre-login after login: 419 csrf_mismatch, and
nothing happens); Bearer requests need none; the Origin / Referer /
Sec-Fetch-Site check (403 origin_mismatch), which comes before the CSRF
check. Unhappy paths first. One stack for the module."""

import base64
import secrets

import pytest

from client import PASSWORD, Browser, json_error, make_team, new_email, post_token, set_cookies

EVIL = "https://evil.example"


@pytest.fixture(scope="module")
def team(shared_stack):
    """(owner, admin, member) of one team, for the cookie-authenticated routes."""
    return make_team(shared_stack)


def anon_routes(stack, code):
    """The anonymous routes that need the CSRF token: (method, path, body)."""
    return [
        ("POST", "/api/teams", {"team_name": "T", "name": "N", "email": new_email(),
                                "password": PASSWORD}),
        ("POST", "/api/login", {"email": new_email(), "password": PASSWORD}),
        ("POST", "/api/invites/%s/accept" % code, {"name": "N", "email": new_email(),
                                                    "password": PASSWORD}),
    ]


def session_routes(member_id, session_id):
    """Every cookie-authenticated state-changing route: (method, path, body)."""
    return [
        ("POST", "/api/logout", None),
        ("POST", "/api/password", {"current_password": PASSWORD, "new_password": PASSWORD + "x"}),
        ("POST", "/api/team/invite/rotate", None),
        ("PATCH", "/api/team/members/%s" % member_id, {"role": "admin"}),
        ("DELETE", "/api/team/members/%s" % member_id, None),
        ("DELETE", "/api/sessions/%s" % session_id, None),
        ("POST", "/api/sessions/revoke-others", None),
    ]


def forged_tokens(real):
    """Tokens that must not pass: empty, random, tampered, re-encoded."""
    nonce, _, mac = real.partition(".")
    flip = "A" if mac[0] != "A" else "B"
    raw = base64.urlsafe_b64encode(secrets.token_bytes(16)).rstrip(b"=").decode()
    raw_mac = base64.urlsafe_b64encode(secrets.token_bytes(32)).rstrip(b"=").decode()
    return [
        "",
        "x",
        secrets.token_hex(33),
        raw + "." + raw_mac,                 # well-formed, not signed with our key
        nonce + "." + flip + mac[1:],         # MAC tampered
        raw + "." + mac,                      # another nonce, same MAC
        real + "=",                           # not canonical
        real[:-1],                            # cut
        real.upper(),
        real + real,
    ]


# ---- 419: missing, forged, another browser's -------------------------------------

def test_anonymous_routes_without_token_419(shared_stack, team):
    owner = team[0]
    b = Browser(shared_stack)
    b.csrf()  # has the cookies, does not send the header
    routes = anon_routes(shared_stack, owner.invite_url.rsplit("/", 1)[1])
    for method, path, body in routes:
        json_error(b.request(method, path, body, csrf=False), "csrf_mismatch", 419)
        # no Origin at all (curl): the token is still required
        json_error(b.request(method, path, body, csrf=False, origin=False), "csrf_mismatch", 419)
        # no cookies at all
        with Browser(shared_stack) as fresh:
            json_error(fresh.request(method, path, body, csrf=False), "csrf_mismatch", 419)
            json_error(fresh.request(method, path, body, csrf="x" * 66), "csrf_mismatch", 419)
    # nobody signed up or joined
    for method, path, body in routes:
        assert shared_stack.pg.query("SELECT count(*) FROM users WHERE email = %s",
                                     (body["email"],))[0][0] == 0


def test_forged_tokens_419(shared_stack):
    b = Browser(shared_stack)
    real = b.csrf()
    assert real and len(real) >= 16
    email = new_email()
    body = {"team_name": "Forged", "name": "N", "email": email, "password": PASSWORD}
    for tok in forged_tokens(real):
        if tok == real:
            continue
        r = b.post("/api/teams", body, csrf=tok) if tok else b.post(
            "/api/teams", body, headers={"X-XSRF-TOKEN": ""})
        json_error(r, "csrf_mismatch", 419)
    assert shared_stack.pg.query("SELECT count(*) FROM users WHERE email = %s", (email,))[0][0] == 0
    # the real token still works: the refusals were about the tokens
    b.signup(email=email)


def test_token_of_another_browser_419(shared_stack):
    a, b = Browser(shared_stack), Browser(shared_stack)
    ta, tb = a.csrf(), b.csrf()
    assert ta != tb
    assert a.cookie("XSRF-TOKEN") != b.cookie("XSRF-TOKEN")
    email = new_email()
    body = {"team_name": "Cross", "name": "N", "email": email, "password": PASSWORD}
    # b sends a's token: header only, and header + a's XSRF-TOKEN cookie (plain
    # double submit would let that through; the binding cookie does not)
    json_error(b.post("/api/teams", body, csrf=ta), "csrf_mismatch", 419)
    b.http.cookies.set("XSRF-TOKEN", a.cookie("XSRF-TOKEN"), domain="127.0.0.1", path="/")
    json_error(b.post("/api/teams", body, csrf=ta), "csrf_mismatch", 419)
    assert shared_stack.pg.query("SELECT count(*) FROM users WHERE email = %s", (email,))[0][0] == 0
    # each browser's own token works
    a.signup(email=email)


def test_session_routes_without_token_419(shared_stack, team):
    owner, admin, member = team
    sid = owner.session_id()
    invite = owner.get("/api/team/invite").json()["invite_url"]
    before = shared_stack.pg.query("SELECT role FROM users WHERE id = %s", (member.user["id"],))
    for method, path, body in session_routes(member.user["id"], sid):
        json_error(owner.request(method, path, body, csrf=False), "csrf_mismatch", 419)
        json_error(owner.request(method, path, body, csrf="forged." + "A" * 43), "csrf_mismatch", 419)
        json_error(owner.request(method, path, body, csrf=False, origin=False), "csrf_mismatch", 419)
    # none of it happened
    assert owner.me().status_code == 200
    assert member.me().status_code == 200
    assert owner.get("/api/team/invite").json()["invite_url"] == invite
    assert shared_stack.pg.query("SELECT role FROM users WHERE id = %s", (member.user["id"],)) == before
    r = owner.login(password=PASSWORD + "x", expect=None)
    json_error(r, "invalid_credentials", 401)  # the password did not change
    owner.login(password=PASSWORD)


def test_token_of_another_session_419(shared_stack, team):
    """A session's token does not work with another session's cookie."""
    owner, admin, member = team
    json_error(owner.post("/api/sessions/revoke-others", csrf=admin.xsrf), "csrf_mismatch", 419)
    json_error(admin.post("/api/sessions/revoke-others", csrf=owner.xsrf), "csrf_mismatch", 419)


def test_pre_login_token_dies_at_login(shared_stack):
    owner = Browser(shared_stack)
    owner.signup()
    b = Browser(shared_stack)
    pre = b.csrf()
    pre_cookie = b.cookie("XSRF-TOKEN")
    r = b.login(owner.email, PASSWORD)
    sc = set_cookies(r)
    assert "XSRF-TOKEN" in sc, "login did not set a fresh XSRF-TOKEN: %r" % list(sc)
    assert sc["XSRF-TOKEN"].value not in ("", pre_cookie)
    assert b.xsrf != pre
    json_error(b.post("/api/sessions/revoke-others", csrf=pre), "csrf_mismatch", 419)
    json_error(b.post("/api/logout", csrf=pre), "csrf_mismatch", 419)
    assert b.me().status_code == 200
    # the fresh one works
    r = b.post("/api/sessions/revoke-others")
    assert r.status_code == 204, (r.status_code, r.text)
    # sign-up re-binds too
    c = Browser(shared_stack)
    pre = c.csrf()
    c.signup()
    assert c.xsrf != pre
    json_error(c.post("/api/sessions/revoke-others", csrf=pre), "csrf_mismatch", 419)
    assert c.post("/api/sessions/revoke-others").status_code == 204


def test_pre_login_token_dies_at_invite_accept(shared_stack, team):
    b = Browser(shared_stack)
    pre = b.csrf()
    b.join(team[0].invite_url)
    assert b.xsrf != pre
    json_error(b.post("/api/sessions/revoke-others", csrf=pre), "csrf_mismatch", 419)
    assert b.post("/api/sessions/revoke-others").status_code == 204


def test_logged_out_token_dies(shared_stack):
    b = Browser(shared_stack)
    b.signup()
    old = b.xsrf
    r = b.logout()
    assert "XSRF-TOKEN" in set_cookies(r)
    # the session's token no longer works for a login in this browser
    json_error(b.post("/api/login", {"email": b.email, "password": PASSWORD}, csrf=old),
               "csrf_mismatch", 419)
    b.login()


# ---- 403: origin ------------------------------------------------------------------

def test_cross_site_origin_403(shared_stack, team):
    owner, admin, member = team
    sid = owner.session_id()
    code = owner.invite_url.rsplit("/", 1)[1]
    port = shared_stack.port
    bad_origins = [EVIL, "null", "http://127.0.0.1:%d" % (port + 1 if port < 65535 else port - 1),
                   "https://127.0.0.1:%d" % port, "http://localhost:%d" % port,
                   "http://127.0.0.1:%d.evil.example" % port, "http://127.0.0.1", ""]
    b = Browser(shared_stack)
    b.csrf()
    for origin in bad_origins:
        for method, path, body in anon_routes(shared_stack, code):
            json_error(b.request(method, path, body, headers={"Origin": origin}),
                       "origin_mismatch", 403)
        for method, path, body in session_routes(member.user["id"], sid):
            json_error(owner.request(method, path, body, headers={"Origin": origin}),
                       "origin_mismatch", 403)
    # POST /api/tokens (anyone, no CSRF) checks the origin too
    r = Browser(shared_stack).post("/api/tokens", {"email": owner.email, "password": PASSWORD,
                                                   "device_name": "x"}, headers={"Origin": EVIL})
    json_error(r, "origin_mismatch", 403)
    assert owner.me().status_code == 200 and member.me().status_code == 200


def test_referer_without_origin(shared_stack):
    b = Browser(shared_stack)
    b.csrf()
    body = {"email": new_email(), "password": PASSWORD}
    for ref in (EVIL + "/page", "http://127.0.0.1:1/x", "null", "garbage"):
        r = b.post("/api/login", body, origin=False, headers={"Referer": ref})
        json_error(r, "origin_mismatch", 403)
    # a Referer of our own origin is fine (then the credentials decide)
    r = b.post("/api/login", body, origin=False, headers={"Referer": shared_stack.origin + "/login?x=1"})
    json_error(r, "invalid_credentials", 401)
    # Origin wins over Referer
    r = b.post("/api/login", body, headers={"Referer": EVIL + "/"})
    json_error(r, "invalid_credentials", 401)
    r = b.post("/api/login", body, headers={"Origin": EVIL, "Referer": shared_stack.origin + "/"})
    json_error(r, "origin_mismatch", 403)


def test_sec_fetch_site_cross_site_403(shared_stack, team):
    owner = team[0]
    b = Browser(shared_stack)
    body = {"email": owner.email, "password": PASSWORD}
    for v in ("cross-site", "Cross-Site"):
        json_error(b.post("/api/login", body, headers={"Sec-Fetch-Site": v}), "origin_mismatch", 403)
        json_error(owner.post("/api/sessions/revoke-others", headers={"Sec-Fetch-Site": v}),
                   "origin_mismatch", 403)
    for v in ("same-origin", "same-site", "none"):
        r = owner.post("/api/sessions/revoke-others", headers={"Sec-Fetch-Site": v})
        assert r.status_code == 204, (v, r.status_code, r.text)


def test_origin_before_csrf(shared_stack, team):
    """A cross-site request without a token is 403, not 419."""
    owner, _, member = team
    b = Browser(shared_stack)
    r = b.post("/api/login", {"email": owner.email, "password": PASSWORD}, csrf=False,
               headers={"Origin": EVIL})
    json_error(r, "origin_mismatch", 403)
    r = b.post("/api/login", {"email": owner.email, "password": PASSWORD}, csrf=False,
               origin=False, headers={"Sec-Fetch-Site": "cross-site"})
    json_error(r, "origin_mismatch", 403)
    r = owner.delete("/api/team/members/%s" % member.user["id"], csrf=False, headers={"Origin": EVIL})
    json_error(r, "origin_mismatch", 403)
    assert member.me().status_code == 200


def test_safe_methods_need_neither(shared_stack, team):
    owner = team[0]
    for path in ("/api/me", "/api/team", "/api/sessions", "/api/team/invite"):
        r = owner.get(path, headers={"Origin": EVIL, "Sec-Fetch-Site": "cross-site"})
        assert r.status_code == 200, (path, r.status_code, r.text)


# ---- Bearer: no CSRF -----------------------------------------------------------------

def test_bearer_needs_no_csrf(shared_stack):
    owner, admin, member = make_team(shared_stack)
    ob = owner.bearer("owner cli")
    mb = member.bearer("member cli")
    # no cookie, no X-XSRF-TOKEN, no Origin
    r = ob.post("/api/team/invite/rotate")
    assert r.status_code == 200, (r.status_code, r.text)
    r = ob.patch("/api/team/members/%s" % member.user["id"], {"role": "admin"})
    assert r.status_code == 200 and r.json()["role"] == "admin", r.text
    r = mb.post("/api/sessions/revoke-others")  # ends member's browser session
    assert r.status_code == 204, r.text
    assert member.me().status_code == 401
    sid = ob.get("/api/me").json()["session"]["id"]
    r = ob.post("/api/password", {"current_password": PASSWORD, "new_password": PASSWORD + " new"})
    assert r.status_code == 204, r.text
    r = ob.delete("/api/team/members/%s" % admin.user["id"])
    assert r.status_code == 204, r.text
    # a Bearer request ignores the cookie (and the cookie's CSRF binding)
    r = owner.request("POST", "/api/sessions/revoke-others", csrf=False,
                      headers={"Authorization": "Bearer " + ob.token})
    assert r.status_code == 204, r.text
    r = ob.delete("/api/sessions/%s" % sid)
    assert r.status_code == 204, r.text
    json_error(ob.get("/api/me"), "unauthenticated", 401)
    # a cross-site Origin is refused even with Bearer (nothing to lose: native
    # clients send none)
    json_error(mb.post("/api/sessions/revoke-others", headers={"Origin": EVIL}), "origin_mismatch", 403)


def test_tokens_route_needs_no_csrf(shared_stack):
    b = Browser(shared_stack)
    b.signup()
    r = post_token(shared_stack, b.email, PASSWORD, "d")  # no cookie, no token, no Origin
    assert r.status_code == 201, (r.status_code, r.text)
    assert set_cookies(r) == {}
    # with a browser's cookies but no X-XSRF-TOKEN: still fine, and no cookie set
    r = b.post("/api/tokens", {"email": b.email, "password": PASSWORD, "device_name": "d"},
               csrf=False)
    assert r.status_code == 201, (r.status_code, r.text)
    assert set_cookies(r) == {}


# ---- GET /api/csrf --------------------------------------------------------------------

def test_get_csrf_cookies(shared_stack):
    b = Browser(shared_stack)
    r = b.http.get(b.url("/api/csrf"), timeout=10)
    assert r.status_code == 204, (r.status_code, r.text)
    assert r.content == b""
    assert r.headers.get("Cache-Control") == "no-store"
    sc = set_cookies(r)
    x = sc.get("XSRF-TOKEN")
    assert x is not None, "no XSRF-TOKEN cookie: %r" % list(sc)
    assert x.value and not x.has("httponly"), x
    assert (x.get("samesite") or "").lower() == "lax", x
    assert x.get("path") == "/", x
    assert not x.has("secure"), x
    binding = [c for n, c in sc.items() if n != "XSRF-TOKEN"]
    assert len(binding) == 1, "expected one browser-binding cookie: %r" % sc
    bc = binding[0]
    assert bc.has("httponly") and bc.value, bc
    assert (bc.get("samesite") or "").lower() == "lax" and bc.get("path") == "/", bc
    # the binding cookie is set only when missing; each call gives a fresh token
    r2 = b.http.get(b.url("/api/csrf"), timeout=10)
    sc2 = set_cookies(r2)
    assert r2.status_code == 204 and list(sc2) == ["XSRF-TOKEN"], sc2
    assert sc2["XSRF-TOKEN"].value != x.value
    # both tokens of this browser work
    assert b.post("/api/login", {"email": new_email(), "password": PASSWORD},
                  csrf=x.value).status_code == 401
    # HEAD works as GET
    r3 = b.http.head(b.url("/api/csrf"), timeout=10)
    assert r3.status_code == 204 and "XSRF-TOKEN" in set_cookies(r3)


def test_get_csrf_methods(shared_stack):
    b = Browser(shared_stack)
    for m in ("POST", "PUT", "DELETE", "PATCH"):
        r = b.request(m, "/api/csrf", csrf=False)
        j = json_error(r, "method_not_allowed", 405)
        assert "GET" in r.headers.get("Allow", ""), (r.headers, j)


def test_tampered_binding_cookie(shared_stack):
    """The token is bound to the HttpOnly cookie's value: changing the cookie kills it."""
    b = Browser(shared_stack)
    tok = b.csrf()
    jar = {c.name: c.value for c in b.http.cookies}
    name = [n for n in jar if n != "XSRF-TOKEN"][0]
    with Browser(shared_stack) as c:
        c.http.cookies.set("XSRF-TOKEN", jar["XSRF-TOKEN"], domain="127.0.0.1", path="/")
        v = jar[name]
        c.http.cookies.set(name, ("0" if v[0] != "0" else "1") + v[1:], domain="127.0.0.1", path="/")
        json_error(c.post("/api/login", {"email": new_email(), "password": PASSWORD}, csrf=tok),
                   "csrf_mismatch", 419)
        # with the very same cookies it passes
        c.http.cookies.set(name, v, domain="127.0.0.1", path="/")
        json_error(c.post("/api/login", {"email": new_email(), "password": PASSWORD}, csrf=tok),
                   "invalid_credentials", 401)
