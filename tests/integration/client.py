"""client.py - the one client of sembark's account API (API.md "CSRF",
"Sessions", "Endpoints") for the integration tests: every test that signs
up, joins, logs in or needs a CSRF token uses it. Owned by the accounts
tests (test_accounts*.py, test_csrf*.py, test_sessions*.py, test_team*.py,
test_throttle*.py); the audit, retention and telemetry tests use it too.

    Browser(base, origin=None, source=None)
        one browser: its own cookie jar (so its own CSRF binding cookie),
        GET /api/csrf when it needs a token, X-XSRF-TOKEN from the
        XSRF-TOKEN cookie and Origin = the public origin on every unsafe
        request. base: a Stack or a base URL; source: a loopback address
        to connect from (its own per-client rate budget).
        .request(method, path, body=None, csrf=True, origin=True, headers=,
                 data=, content_type=)  -> requests.Response
        .get .post .patch .delete .csrf() .xsrf .token (session cookie)
        .signup(...) .join(code_or_url, ...) .login(...) .logout() .me()
        .user .team (dicts of the last sign-up/join/login answer) .invite_url
        .set_role(user_id, role) .bearer() -> Bearer
    Bearer(base, token, source=None)   a native client: Authorization:
        Bearer, never a cookie, never a CSRF header (same .get .post ...)
    new_email(prefix)                  a unique address
    invite_code(url)                   the code of an invite_url
    set_cookies(r)                     {name: Cookie(value, attrs)} of a response
    post_token(base, email, password, device_name) -> requests.Response
    make_team(base)                    (owner, admin, member) Browsers of a new team
    accounts_available(base)           does authd serve the account API yet?
    json_error(r, code, status)        the checked JSON error body of r
"""
import base64
import hashlib
import hmac
import json
import re
import struct
import urllib.parse
import uuid

import requests
from requests.adapters import HTTPAdapter

PASSWORD = "correct horse battery staple 42"
HEX40 = re.compile(r"^[0-9a-f]{40}$")
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$")
UNSAFE = ("POST", "PUT", "PATCH", "DELETE")


def _base(base):
    """(base url, public origin) of a Stack or a URL."""
    if isinstance(base, str):
        return base.rstrip("/"), base.rstrip("/")
    return base.origin, base.origin


def new_email(prefix="it"):
    return "%s-%s@example.com" % (prefix, uuid.uuid4().hex[:16])


def invite_code(url):
    return url.rstrip("/").rsplit("/", 1)[-1]


def sha256_hex(text):
    return hashlib.sha256(text.encode()).hexdigest()


class _SourceAdapter(HTTPAdapter):
    """Connections from a chosen local address (127.x.y.z)."""

    def __init__(self, source, **kw):
        self.source = source
        super().__init__(**kw)

    def init_poolmanager(self, *a, **kw):
        kw["source_address"] = (self.source, 0)
        return super().init_poolmanager(*a, **kw)


class _NoCookies(requests.cookies.RequestsCookieJar):
    def set_cookie(self, *a, **kw):
        return None


def _session(source=None, cookies=True):
    s = requests.Session()
    s.trust_env = False
    if not cookies:
        s.cookies = _NoCookies()
    if source:
        s.mount("http://", _SourceAdapter(source))
    return s


class Cookie:
    def __init__(self, name, value, attrs, raw):
        self.name, self.value, self.attrs, self.raw = name, value, attrs, raw

    def has(self, flag):
        return flag.lower() in self.attrs

    def get(self, key):
        return self.attrs.get(key.lower())

    def __repr__(self):
        return "<Set-Cookie %s>" % self.raw


def set_cookie_lines(r):
    """Every Set-Cookie line of a requests.Response, as sent."""
    h = r.raw.headers if r.raw is not None else None
    if h is not None and hasattr(h, "getlist"):
        return list(h.getlist("Set-Cookie"))
    v = r.headers.get("Set-Cookie")
    return [v] if v else []


def parse_set_cookie(line):
    parts = [p.strip() for p in line.split(";")]
    name, _, value = parts[0].partition("=")
    attrs = {}
    for p in parts[1:]:
        k, eq, v = p.partition("=")
        attrs[k.strip().lower()] = v.strip() if eq else True
    return Cookie(name.strip(), value.strip(), attrs, line)


def set_cookies(r):
    """{name: Cookie} of a response (a cookie set twice: the test fails)."""
    out = {}
    for line in set_cookie_lines(r):
        c = parse_set_cookie(line)
        assert c.name not in out, "cookie %s set twice: %r" % (c.name, set_cookie_lines(r))
        out[c.name] = c
    return out


class Client:
    """What Browser and Bearer share: a base URL and a requests.Session."""

    def __init__(self, base, source=None, cookies=True):
        self.base, self.origin = _base(base)
        self.source = source
        self.http = _session(source, cookies)

    def close(self):
        self.http.close()

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()

    def url(self, path):
        return self.base + path

    def _send(self, method, path, body, headers, data, content_type, timeout):
        h = {}
        if body is not None or data is not None:
            h["Content-Type"] = content_type
        h.update(headers or {})
        h = {k: v for k, v in h.items() if v is not None}
        if data is None and body is not None:
            data = json.dumps(body).encode()
        if isinstance(data, str):
            data = data.encode()
        return self.http.request(method, self.url(path), data=data, headers=h, timeout=timeout,
                                 allow_redirects=False)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, body, **kw)

    def patch(self, path, body=None, **kw):
        return self.request("PATCH", path, body, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    def me(self):
        return self.get("/api/me")


class Browser(Client):
    """A browser: cookies, the CSRF token, Origin = the public origin."""

    def __init__(self, base, origin=None, source=None):
        super().__init__(base, source)
        if origin:
            self.origin = origin
        self.email = self.password = None
        self.user = self.team = None
        self.invite_url = None

    @property
    def xsrf(self):
        """The XSRF-TOKEN cookie's value (None without one)."""
        v = self.cookie("XSRF-TOKEN")
        return urllib.parse.unquote(v) if v else None

    @property
    def token(self):
        """The session token from the cookie (None when logged out)."""
        return self.cookie("sembark_session")

    def cookie(self, name):
        """A cookie of the jar that a browser would still send (not expired)."""
        self.http.cookies.clear_expired_cookies()
        for c in self.http.cookies:
            if c.name == name and not c.is_expired():
                return c.value
        return None

    def csrf(self):
        """GET /api/csrf; the fresh token."""
        r = self.http.get(self.url("/api/csrf"), timeout=10)
        assert r.status_code == 204, "GET /api/csrf: %d %r" % (r.status_code, r.text[:300])
        return self.xsrf

    def request(self, method, path, body=None, csrf=True, origin=True, headers=None, data=None,
                content_type="application/json", timeout=30):
        """One request. Unsafe methods get Origin (origin=True) and the
        X-XSRF-TOKEN (csrf=True: the cookie's, fetched first when missing;
        a string: that value). headers override, None removes."""
        h = {}
        if method in UNSAFE:
            if origin:
                h["Origin"] = self.origin if origin is True else origin
            if csrf is True:
                h["X-XSRF-TOKEN"] = self.xsrf or self.csrf()
            elif csrf:
                h["X-XSRF-TOKEN"] = csrf
        h.update(headers or {})
        return self._send(method, path, body, h, data, content_type, timeout)

    # -- accounts

    def signup(self, team_name=None, name="It Owner", email=None, password=PASSWORD, expect=201):
        self.email = email or new_email("it-owner")
        self.password = password
        r = self.post("/api/teams", {"team_name": team_name or "Team %s" % uuid.uuid4().hex[:8],
                                     "name": name, "email": self.email, "password": password})
        return self._signed_in(r, expect)

    def join(self, invite, name="It Member", email=None, password=PASSWORD, expect=201):
        code = invite_code(invite)
        self.email = email or new_email("it-member")
        self.password = password
        r = self.post("/api/invites/%s/accept" % code,
                      {"name": name, "email": self.email, "password": password})
        return self._signed_in(r, expect)

    def login(self, email=None, password=None, expect=200, **extra):
        body = {"email": email or self.email, "password": password or self.password}
        body.update(extra)
        r = self.post("/api/login", body)
        return self._signed_in(r, expect)

    def _signed_in(self, r, expect):
        if expect is None:
            return r
        assert r.status_code == expect, "expected %d, got %d %r" % (expect, r.status_code, r.text[:500])
        if r.status_code in (200, 201):
            j = r.json()
            self.user, self.team = j["user"], j["team"]
            self.invite_url = j.get("invite_url", self.invite_url)
        return r

    def logout(self, expect=204):
        r = self.post("/api/logout")
        if expect is not None:
            assert r.status_code == expect, (r.status_code, r.text[:300])
        return r

    def set_role(self, user_id, role):
        """PATCH /api/team/members/{id} to this role (200 or the test fails)."""
        r = self.patch("/api/team/members/%s" % user_id, {"role": role})
        assert r.status_code == 200, (r.status_code, r.text)
        return r

    def session_id(self):
        r = self.me()
        assert r.status_code == 200, (r.status_code, r.text[:300])
        return r.json()["session"]["id"]

    def bearer(self, device_name="it device", source=None):
        """A Bearer client for this account (POST /api/tokens)."""
        r = post_token(self.base, self.email, self.password, device_name, source=source)
        assert r.status_code == 201, (r.status_code, r.text[:300])
        return Bearer(self.base, r.json()["token"], source=source)

    def with_cookies_of(self, other):
        """Copy another browser's cookies (a second tab, or a stolen jar)."""
        for c in other.http.cookies:
            self.http.cookies.set_cookie(c)
        return self


class Bearer(Client):
    """A native client: Authorization: Bearer, no cookies, no CSRF."""

    def __init__(self, base, token, source=None):
        super().__init__(base, source, cookies=False)
        self.token = token

    def request(self, method, path, body=None, headers=None, data=None,
                content_type="application/json", timeout=30):
        h = {"Authorization": "Bearer " + self.token}
        h.update(headers or {})
        return self._send(method, path, body, h, data, content_type, timeout)


def post_token(base, email, password, device_name="it device", source=None, headers=None):
    with Client(base, source, cookies=False) as c:
        return c._send("POST", "/api/tokens", {"email": email, "password": password,
                                               "device_name": device_name},
                       headers, None, "application/json", 30)


def totp(secret_b32, t, digits=6):
    """RFC 6238 code (HMAC-SHA-1, 30 s steps) of a base32 secret at unix time t,
    computed with Python's hmac: a reference independent of authd's totp.c."""
    key = base64.b32decode(secret_b32 + "=" * (-len(secret_b32) % 8))
    mac = hmac.new(key, struct.pack(">Q", int(t) // 30), hashlib.sha1).digest()
    off = mac[19] & 15
    return "%0*d" % (digits, (struct.unpack(">I", mac[off:off + 4])[0] & 0x7FFFFFFF) % 10 ** digits)


def make_team(base, team_name=None):
    """A new team: (owner, admin, member) Browsers, each logged in."""
    owner = Browser(base)
    owner.signup(team_name=team_name)
    admin, member = Browser(base), Browser(base)
    admin.join(owner.invite_url, name="It Admin", email=new_email("it-admin"))
    member.join(owner.invite_url)
    owner.set_role(admin.user["id"], "admin")
    return owner, admin, member


def accounts_available(base):
    """Sign-up answers something other than 503 (authd serves the account API)."""
    with Browser(base) as b:
        return b.post("/api/teams", {}).status_code != 503


def json_error(r, code, status):
    """The JSON error body of r, checked: status, {"error": code, "message": str}."""
    assert r.status_code == status, "status %d, expected %d: %r" % (r.status_code, status, r.text[:500])
    ct = r.headers.get("Content-Type", "")
    assert ct.lower().startswith("application/json"), "Content-Type %r: %r" % (ct, r.text[:300])
    j = r.json()
    assert isinstance(j, dict) and j.get("error") == code, "error %r, expected %r: %r" % (
        j.get("error") if isinstance(j, dict) else None, code, j)
    assert isinstance(j.get("message"), str) and j["message"], j
    assert r.headers.get("Cache-Control") == "no-store", r.headers
    return j
