"""test_accounts.py - API.md's account endpoints against the real daemons:
sign-up, invite accept, login, token, GET /api/team (shapes and
statuses); emails normalised (trimmed, lower-cased) everywhere; one
account per email across teams (409 email_taken at sign-up and accept);
passwords used whole (no 72-byte truncation); 401 invalid_credentials the
same for an unknown email and a wrong password; and the Conventions on
every account route: 415, 400 (malformed JSON, invalid UTF-8, not an
object, duplicate keys), 413 over 64 KiB, 405 with Allow, Cache-Control:
no-store, the security headers and JSON error bodies. Unhappy paths
first. One stack for the module."""

import json
import re

import pytest

import sembark
from client import (HEX40, PASSWORD, RFC3339, Bearer, Browser, invite_code, json_error, make_team,
                    new_email, post_token, set_cookies)

UUIDISH = re.compile(r"^[0-9A-Za-z-]{8,}$")

# every account route of API.md's Endpoints table: method, path, JSON body?, allowed methods
ROUTES = [
    ("POST", "/api/teams", True, "POST"),
    ("GET", "/api/invites/{code}", False, "GET"),
    ("POST", "/api/invites/{code}/accept", True, "POST"),
    ("POST", "/api/login", True, "POST"),
    ("POST", "/api/tokens", True, "POST"),
    ("POST", "/api/logout", False, "POST"),
    ("GET", "/api/me", False, "GET, DELETE"),
    ("GET", "/api/me/export", False, "GET"),
    ("POST", "/api/password", True, "POST"),
    ("POST", "/api/password/forgot", True, "POST"),
    ("POST", "/api/password/reset", True, "POST"),
    ("POST", "/api/email/verify", True, "POST"),
    ("POST", "/api/me/verification", False, "GET, POST"),
    ("GET", "/api/team", False, "GET, PATCH, DELETE"),
    ("GET", "/api/team/invite", False, "GET"),
    ("POST", "/api/team/invite/rotate", False, "POST"),
    ("PATCH", "/api/team/members/{id}", True, "PATCH, DELETE"),
    ("GET", "/api/sessions", False, "GET"),
    ("DELETE", "/api/sessions/{id}", False, "DELETE"),
    ("POST", "/api/sessions/revoke-others", False, "POST"),
    ("GET", "/api/csrf", False, "GET"),
]
JSON_ROUTES = [r for r in ROUTES if r[2]]


@pytest.fixture(scope="module")
def team(shared_stack):
    return make_team(shared_stack)


def fill(path, team):
    owner, _, member = team
    return (path.replace("{code}", invite_code(owner.invite_url))
            .replace("{id}", member.user["id"]))


# ---- conventions ------------------------------------------------------------------------------

@pytest.mark.parametrize("method,path,_json,_allow", JSON_ROUTES, ids=[r[1] for r in JSON_ROUTES])
def test_wrong_content_type_415(shared_stack, team, method, path, _json, _allow):
    owner = team[0]
    p = fill(path, team)
    for ct in ("text/plain", "application/x-www-form-urlencoded", "application/json; charset=latin1",
               "application/jsonp", "multipart/form-data; boundary=x", None):
        h = {"Content-Type": ct}
        r = owner.request(method, p, data=b'{"email":"a@b.cd"}', headers=h)
        json_error(r, "unsupported_media_type", 415)
    # accepted spellings reach the route (whatever it answers then)
    for ct in ("application/json", "application/json; charset=utf-8", "Application/JSON; Charset=UTF-8"):
        r = owner.request(method, p, data=b"{}", headers={"Content-Type": ct})
        assert r.status_code not in (400, 415, 500), (ct, r.status_code, r.text)


BAD_JSON = [b"{", b'{"a":', b"[]", b'"str"', b"null", b"1", b"", b'{"a":1,"a":2}', b"{'a':1}",
            b'{"a":"\xc3\x28"}', b'{"a":"\xff"}', b'{"a":"\\u0000"}', b"{} {}", b"\xef\xbb\xbf{}",
            b'{"a":{"b":1,"b":2}}', b'{"email":"\\ud800"}', b'{"a":' + b"[" * 5000 + b"]" * 5000 + b"}",
            b'{"a":"\xed\xa0\x80"}', b'{"a":"\xc0\xaf"}', b'{"a":1,}', b"{\"a\":1}\x00"]


@pytest.mark.parametrize("method,path,_json,_allow", JSON_ROUTES, ids=[r[1] for r in JSON_ROUTES])
def test_malformed_json_400(shared_stack, team, method, path, _json, _allow):
    owner = team[0]
    p = fill(path, team)
    for body in BAD_JSON:
        r = owner.request(method, p, data=body)
        json_error(r, "bad_request", 400)
    assert owner.me().status_code == 200


@pytest.mark.parametrize("method,path,_json,_allow", ROUTES, ids=[r[1] for r in ROUTES])
def test_over_64k_413(shared_stack, team, method, path, _json, _allow):
    if method == "GET":
        method = "POST" if path != "/api/csrf" else "GET"
    owner = team[0]
    big = json.dumps({"name": "x" * (64 * 1024)}).encode()
    r = owner.request(method, fill(path, team), data=big)
    if method == "GET" or r.status_code == 405:
        # a GET or a wrong method with a body: refused as 413 or 405, never read as a request
        assert r.status_code in (405, 413), (r.status_code, r.text)
    else:
        json_error(r, "payload_too_large", 413)
    # exactly 64 KiB is not too large
    exact = b'{"name":"' + b"x" * (64 * 1024 - 11) + b'"}'
    assert len(exact) == 64 * 1024
    if _json:
        r = owner.request(method, fill(path, team), data=exact)
        assert r.status_code != 413, r.text


@pytest.mark.parametrize("method,path,_json,allow", ROUTES, ids=[r[1] for r in ROUTES])
def test_wrong_method_405(shared_stack, team, method, path, _json, allow):
    owner = team[0]
    p = fill(path, team)
    allowed = {m.strip() for m in allow.split(",")}
    if "GET" in allowed:
        allowed.add("HEAD")
    for m in ("GET", "POST", "PUT", "PATCH", "DELETE"):
        if m in allowed:
            continue
        if m == "DELETE" and path == "/api/sessions/revoke-others":
            continue  # that is DELETE /api/sessions/{id} with id "revoke-others"
        r = owner.request(m, p, data=b"{}" if m != "GET" else None)
        j = json_error(r, "method_not_allowed", 405)
        got = {x.strip() for x in r.headers.get("Allow", "").split(",") if x.strip()}
        assert {a.strip() for a in allow.split(",")} <= got, (r.headers.get("Allow"), allow, j)


def test_unknown_paths_404(shared_stack, team):
    owner = team[0]
    for p in ("/api/teams/x", "/api/invites", "/api/invites/", "/api/invites/x/accept/y", "/api/me/",
              "/api/team/members", "/api/team/members/", "/api/sessions/", "/api/session",
              "/api/token", "/api/users"):
        json_error(owner.get(p), "not_found", 404)


def test_headers_on_every_account_answer(shared_stack, team):
    owner, _, member = team
    answers = [owner.me(), owner.get("/api/team"), owner.get("/api/sessions"),
               owner.get("/api/team/invite"), member.get("/api/team/invite"),
               Browser(shared_stack).me(), Browser(shared_stack).post("/api/login", {}),
               Browser(shared_stack).post("/api/login", {}, csrf=False),
               Browser(shared_stack).get("/api/invites/%s" % invite_code(owner.invite_url)),
               Browser(shared_stack).get("/api/invites/unknown"),
               owner.post("/api/sessions/revoke-others"),
               Browser(shared_stack).http.get(shared_stack.url("/api/csrf"), timeout=10)]
    for r in answers:
        assert r.headers.get("Cache-Control") == "no-store", (r.url, r.status_code, r.headers)
        assert sembark.security_header_problems(r) == [], (r.url, r.status_code)
        assert r.status_code < 500, (r.url, r.status_code, r.text)
        if r.status_code >= 400:
            json_error(r, r.json()["error"], r.status_code)
        elif r.status_code != 204:
            assert r.headers["Content-Type"].lower().startswith("application/json"), r.headers


# ---- sign-up -------------------------------------------------------------------------------------

def test_signup(shared_stack):
    b = Browser(shared_stack)
    email = new_email("it-signup")
    r = b.post("/api/teams", {"team_name": "  Acme  ", "name": " Ada ", "email": email,
                              "password": PASSWORD})
    assert r.status_code == 201, r.text
    j = r.json()
    assert set(j) == {"team", "user", "invite_url"}, j
    assert set(j["team"]) == {"id", "name"} and j["team"]["name"] == "Acme", j
    assert set(j["user"]) == {"id", "email", "name", "role"}, j
    assert j["user"]["email"] == email and j["user"]["name"] == "Ada" and j["user"]["role"] == "owner"
    assert isinstance(j["team"]["id"], str) and isinstance(j["user"]["id"], str)
    assert j["invite_url"].startswith(shared_stack.origin + "/join/"), j
    # logged in
    assert HEX40.match(set_cookies(r)["sembark_session"].value)
    me = b.me().json()
    assert me["user"] == j["user"] and me["team"] == j["team"]


def test_email_taken_409(shared_stack, team):
    owner = team[0]
    b = Browser(shared_stack)
    email = owner.email
    for e in (email, email.upper(), "  %s  " % email.title()):
        r = b.post("/api/teams", {"team_name": "Dup", "name": "Dup", "email": e, "password": PASSWORD})
        json_error(r, "email_taken", 409)
        # nor by joining another team, or the same one
        other = Browser(shared_stack)
        other.signup()
        for url in (other.invite_url, owner.invite_url):
            r = b.post("/api/invites/%s/accept" % invite_code(url),
                       {"name": "Dup", "email": e, "password": PASSWORD})
            json_error(r, "email_taken", 409)
    assert b.token is None
    assert shared_stack.pg.query("SELECT count(*) FROM users WHERE email = %s", (email,))[0][0] == 1
    # a member's email is taken as well
    json_error(b.post("/api/teams", {"team_name": "Dup", "name": "Dup", "email": team[2].email,
                                     "password": PASSWORD}), "email_taken", 409)


def test_email_normalised(shared_stack):
    raw = "  It-Norm-%s@Example.COM " % new_email("x")[2:14]
    norm = raw.strip().lower()
    b = Browser(shared_stack)
    r = b.post("/api/teams", {"team_name": "Norm", "name": "Norm", "email": raw, "password": PASSWORD})
    assert r.status_code == 201, r.text
    assert r.json()["user"]["email"] == norm
    invite_url = r.json()["invite_url"]
    assert shared_stack.pg.query("SELECT email FROM users WHERE id = %s",
                                 (r.json()["user"]["id"],))[0][0] == norm
    for e in (raw, norm, norm.upper(), "\t" + norm.title() + "\n"):
        c = Browser(shared_stack)
        r = c.login(e, PASSWORD)
        assert r.json()["user"]["email"] == norm
        r = post_token(shared_stack, e, PASSWORD, "d")
        assert r.status_code == 201, r.text
    # accept normalises too
    m = Browser(shared_stack)
    raw2 = " Joiner-%s@EXAMPLE.com" % new_email("x")[2:14]
    r = m.post("/api/invites/%s/accept" % invite_code(invite_url),
               {"name": "J", "email": raw2, "password": PASSWORD})
    assert r.status_code == 201 and r.json()["user"]["email"] == raw2.strip().lower(), r.text
    Browser(shared_stack).login(raw2.strip().upper(), PASSWORD)


def test_email_taken_under_concurrency(shared_stack):
    """Sign-ups and invite acceptances racing for one email: one account, the
    others 409 email_taken (never a 500 or 503)."""
    import threading
    owner = Browser(shared_stack)
    owner.signup()
    email = new_email("it-race")
    browsers = [Browser(shared_stack) for _ in range(6)]
    for b in browsers:
        b.csrf()
    out = [None] * len(browsers)

    def go(i):
        b = browsers[i]
        if i % 2:
            out[i] = b.post("/api/teams", {"team_name": "Race", "name": "R", "email": email,
                                           "password": PASSWORD})
        else:
            out[i] = b.post("/api/invites/%s/accept" % invite_code(owner.invite_url),
                            {"name": "R", "email": email.upper(), "password": PASSWORD})
    threads = [threading.Thread(target=go, args=(i,)) for i in range(len(browsers))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    codes = sorted(r.status_code for r in out)
    assert codes == [201] + [409] * (len(browsers) - 1), [(r.status_code, r.text) for r in out]
    for r in out:
        if r.status_code == 409:
            json_error(r, "email_taken", 409)
    assert shared_stack.pg.query("SELECT count(*) FROM users WHERE email = %s", (email,))[0][0] == 1
    Browser(shared_stack).login(email, PASSWORD)


# ---- invite accept ---------------------------------------------------------------------------------

def test_accept(shared_stack):
    owner = Browser(shared_stack)
    owner.signup(team_name="Joinable")
    b = Browser(shared_stack)
    email = new_email("it-accept")
    r = b.post("/api/invites/%s/accept" % invite_code(owner.invite_url),
               {"name": " Bob ", "email": email, "password": PASSWORD})
    assert r.status_code == 201, r.text
    j = r.json()
    assert set(j) == {"user", "team"}, j
    assert j["user"]["role"] == "member" and j["user"]["email"] == email and j["user"]["name"] == "Bob"
    assert set(j["user"]) == {"id", "email", "name", "role"}
    assert j["team"] == owner.team
    assert HEX40.match(set_cookies(r)["sembark_session"].value)
    assert b.me().json()["user"] == j["user"]
    # the code stays live for the next member
    Browser(shared_stack).join(owner.invite_url)


def test_accept_unknown_code_404(shared_stack):
    b = Browser(shared_stack)
    body = {"name": "N", "email": new_email(), "password": PASSWORD}
    for code in ("0" * 32, "f" * 32, "x", "A" * 64, "-", "~"):
        json_error(b.post("/api/invites/%s/accept" % code, body), "not_found", 404)
        json_error(b.get("/api/invites/%s" % code), "not_found", 404)
    for code in ("a" * 65, "%00", "a%2Fb", "x y"):
        json_error(b.get("/api/invites/%s" % code.replace(" ", "%20")), "not_found", 404)
    assert shared_stack.pg.query("SELECT count(*) FROM users WHERE email = %s", (body["email"],))[0][0] == 0


# ---- login and token ---------------------------------------------------------------------------------

def test_login(shared_stack, team):
    owner = team[0]
    b = Browser(shared_stack)
    r = b.post("/api/login", {"email": owner.email, "password": PASSWORD})
    assert r.status_code == 200, r.text
    j = r.json()
    assert set(j) == {"user", "team"}, j
    assert j["user"] == owner.user and j["team"] == owner.team
    tok = set_cookies(r)["sembark_session"].value
    assert HEX40.match(tok) and tok not in r.text
    assert b.me().status_code == 200


def test_token(shared_stack, team):
    member = team[2]
    r = post_token(shared_stack, member.email, PASSWORD, "  My Phone ")
    assert r.status_code == 201, r.text
    j = r.json()
    assert set(j) == {"token", "expires_at"}, j
    assert HEX40.match(j["token"]) and RFC3339.match(j["expires_at"]), j
    assert set_cookies(r) == {}, "POST /api/tokens set cookies"
    n = Bearer(shared_stack, j["token"])
    me = n.get("/api/me").json()
    assert me["user"]["email"] == member.email and me["session"]["expires_at"] == j["expires_at"]
    devices = [s["device_name"] for s in n.get("/api/sessions").json()["sessions"] if s["current"]]
    assert devices == ["My Phone"]
    # Bearer in any case of the scheme; the token only, no cookie needed
    r = Browser(shared_stack).get("/api/me", headers={"Authorization": "bearer " + j["token"]})
    assert r.status_code == 200, r.text
    # a Bearer answer never sets cookies
    assert set_cookies(n.get("/api/me")) == {}


def test_invalid_credentials_identical(shared_stack, team):
    member = team[1]
    unknown = new_email("it-nobody")
    answers = []
    for email, pw in ((unknown, PASSWORD), (member.email, PASSWORD + "!")):
        b = Browser(shared_stack)
        r1 = b.post("/api/login", {"email": email, "password": pw})
        r2 = post_token(shared_stack, email, pw, "d")
        for r in (r1, r2):
            json_error(r, "invalid_credentials", 401)
            assert "sembark_session" not in set_cookies(r)
        answers.append((r1, r2))
    (u1, u2), (w1, w2) = answers
    assert u1.content == w1.content and u2.content == w2.content, (u1.text, w1.text)

    def heads(r):
        return {k.lower(): v for k, v in r.headers.items() if k.lower() not in ("date", "set-cookie")}
    assert heads(u1) == heads(w1) and heads(u2) == heads(w2)
    assert member.email not in w1.text and unknown not in u1.text
    Browser(shared_stack).login(member.email, PASSWORD)  # clears the failure


def test_no_silent_truncation(shared_stack):
    """Two passwords of 100 bytes with the same first 72: the other one fails."""
    p1 = "A" * 72 + "first-tail-" + "1" * 17
    p2 = "A" * 72 + "other-tail-" + "2" * 17
    assert len(p1.encode()) == len(p2.encode()) == 100 and p1[:72] == p2[:72]
    b = Browser(shared_stack)
    b.signup(password=p1)
    json_error(Browser(shared_stack).login(b.email, p2, expect=None), "invalid_credentials", 401)
    json_error(post_token(shared_stack, b.email, p2, "d"), "invalid_credentials", 401)
    json_error(Browser(shared_stack).login(b.email, p1[:72], expect=None), "invalid_credentials", 401)
    Browser(shared_stack).login(b.email, p1)
    # and the same past 72 bytes for a password change
    r = b.post("/api/password", {"current_password": p2, "new_password": p2})
    json_error(r, "validation_failed", 422)
    r = b.post("/api/password", {"current_password": p1, "new_password": p2})
    assert r.status_code == 204, r.text
    json_error(Browser(shared_stack).login(b.email, p1, expect=None), "invalid_credentials", 401)
    Browser(shared_stack).login(b.email, p2)


def test_multibyte_passwords(shared_stack):
    for pw in ("ÄÖÜäöüßẞ éèêë", "🔑🔑🔑🔑🔑🔑🔑🔑🔑🔑🔑🔑", "пароль-пароль-пароль", "密码密码密码密码密码密码"):
        b = Browser(shared_stack)
        b.signup(password=pw)
        Browser(shared_stack).login(b.email, pw)
        json_error(Browser(shared_stack).login(b.email, pw.upper() if pw.upper() != pw else pw + "x",
                                               expect=None), "invalid_credentials", 401)


# ---- the team -----------------------------------------------------------------------------------------

def test_team_listing(shared_stack):
    owner, admin, member = make_team(shared_stack, team_name="Listed")
    for who in (owner, admin, member):
        r = who.get("/api/team")
        assert r.status_code == 200, r.text
        j = r.json()
        assert set(j) == {"team", "members"}, j
        assert j["team"] == owner.team
        got = {m["id"]: m for m in j["members"]}
        assert set(got) == {owner.user["id"], admin.user["id"], member.user["id"]}, j
        for m in j["members"]:
            assert set(m) == {"id", "name", "email", "role", "joined_at"}, m
            assert RFC3339.match(m["joined_at"]), m
        assert got[owner.user["id"]]["role"] == "owner"
        assert got[admin.user["id"]]["role"] == "admin"
        assert got[member.user["id"]]["role"] == "member"
        assert got[member.user["id"]]["email"] == member.email
        text = r.text
        assert "$2b$" not in text and "argon2" not in text and "password" not in text


# ---- least privilege in the database -------------------------------------------------------------

ACCOUNT_TABLES = ("teams", "users", "invites", "sessions", "login_failures")


def as_role(pg, sec, daemon, sql):
    conn = pg.connect(user=sembark.ROLES[daemon], password=sec.passwords[daemon])
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(sql)
            return cur.fetchall() if cur.description else None
    finally:
        conn.close()


def test_database_privileges(shared_stack, sec):
    """authd's role uses the account tables and nothing else; no other daemon
    can read them (password hashes, session hashes)."""
    import psycopg2
    pg = shared_stack.pg
    for t in ACCOUNT_TABLES:
        as_role(pg, sec, "authd", "SELECT count(*) FROM %s" % t)
        for d in ("telemetryd", "logd"):
            with pytest.raises(psycopg2.errors.InsufficientPrivilege):
                as_role(pg, sec, d, "SELECT count(*) FROM %s" % t)
        for sql in ("TRUNCATE %s" % t, "ALTER TABLE %s ADD COLUMN ip text" % t,
                    "DROP TABLE %s" % t):
            with pytest.raises((psycopg2.errors.InsufficientPrivilege, psycopg2.errors.DependentObjectsStillExist)):
                as_role(pg, sec, "authd", sql)
    for t in ("telemetry_events", "audit_events", "logs", "schema_migrations"):
        if pg.query("SELECT to_regclass(%s) IS NOT NULL", ("public." + t,))[0][0]:
            with pytest.raises(psycopg2.errors.InsufficientPrivilege):
                as_role(pg, sec, "authd", "SELECT count(*) FROM %s" % t)
    # no column anywhere in the account tables is meant for an address
    cols = pg.query("SELECT table_name, column_name, data_type FROM information_schema.columns "
                    "WHERE table_schema = 'public' AND table_name = ANY(%s)", (list(ACCOUNT_TABLES),))
    assert cols
    for t, c, typ in cols:
        assert typ not in ("inet", "cidr") and not re.search(r"ip|addr|agent", c), (t, c, typ)


def test_common_password_list_shipped():
    import os
    path = os.path.join(sembark.REPO_ROOT, "data", "common-passwords.txt")
    with open(path, encoding="utf-8", errors="replace") as f:
        entries = {line.strip() for line in f if line.strip()}
    assert len(entries) >= 3000, len(entries)
