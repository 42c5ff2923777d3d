"""test_sessions_tls.py - API.md "Sessions" and the issue's "Cookies" item
for an https public origin (ingressd behind a TLS proxy): the session
cookie is `__Host-sembark_session`, every cookie carries `Secure`, the
HttpOnly ones have no Domain and Path=/, XSRF-TOKEN keeps its name, and
invite links use the https origin. Cookies are sent by hand (a client
library would not send Secure cookies over the plain loopback hop)."""

import pytest
import requests

from client import HEX40, PASSWORD, json_error, new_email, set_cookies

ORIGIN = "https://sembark.example"


@pytest.fixture(scope="module")
def tls(make_shared_stack):
    return make_shared_stack(config={"ingress": {"public_origin": ORIGIN}})


def call(st, method, path, cookies=None, body=None, xsrf=None, origin=ORIGIN):
    h = {}
    if cookies:
        h["Cookie"] = "; ".join("%s=%s" % kv for kv in cookies.items())
    if xsrf:
        h["X-XSRF-TOKEN"] = xsrf
    if origin and method != "GET":
        h["Origin"] = origin
    return requests.request(method, st.url(path), json=body, headers=h, timeout=30,
                            proxies={"http": None}, allow_redirects=False)


def check_secure(c, http_only):
    assert c.has("secure"), c
    assert c.get("path") == "/", c
    assert c.get("domain") is None, c
    assert (c.get("samesite") or "").lower() == "lax", c
    assert c.has("httponly") == http_only, c


def test_https_origin_cookies(tls):
    r = call(tls, "GET", "/api/csrf")
    assert r.status_code == 204
    sc = set_cookies(r)
    assert set(sc) == {"XSRF-TOKEN", "__Host-sembark_csrf"}, list(sc)
    check_secure(sc["XSRF-TOKEN"], False)
    check_secure(sc["__Host-sembark_csrf"], True)
    jar = {"__Host-sembark_csrf": sc["__Host-sembark_csrf"].value}
    xsrf = sc["XSRF-TOKEN"].value
    # the http origin is not ours any more
    email = new_email("it-tls")
    body = {"team_name": "TLS", "name": "N", "email": email, "password": PASSWORD}
    json_error(call(tls, "POST", "/api/teams", jar, body, xsrf, origin=tls.origin), "origin_mismatch", 403)
    # the binding cookie under its plain name does not count
    json_error(call(tls, "POST", "/api/teams", {"sembark_csrf": jar["__Host-sembark_csrf"]}, body, xsrf),
               "csrf_mismatch", 419)
    r = call(tls, "POST", "/api/teams", jar, body, xsrf)
    assert r.status_code == 201, r.text
    assert r.json()["invite_url"].startswith(ORIGIN + "/join/"), r.json()
    sc = set_cookies(r)
    assert "sembark_session" not in sc
    s = sc["__Host-sembark_session"]
    assert HEX40.match(s.value), s
    check_secure(s, True)
    assert 0 < int(s.get("max-age")) <= 86400, s
    check_secure(sc["XSRF-TOKEN"], False)
    tok = s.value
    # only the __Host- name is the session cookie
    assert call(tls, "GET", "/api/me", {"__Host-sembark_session": tok}).status_code == 200
    json_error(call(tls, "GET", "/api/me", {"sembark_session": tok}), "unauthenticated", 401)
    # a cookie named twice is ambiguous: no session
    r = requests.get(tls.url("/api/me"), timeout=10, proxies={"http": None}, headers={
        "Cookie": "__Host-sembark_session=%s; __Host-sembark_session=%s" % (tok, "0" * 40)})
    json_error(r, "unauthenticated", 401)
    # logout clears the __Host- cookie, Secure
    jar = {"__Host-sembark_session": tok}
    r = call(tls, "POST", "/api/logout", jar, None, sc["XSRF-TOKEN"].value)
    assert r.status_code == 204, r.text
    sc = set_cookies(r)
    c = sc["__Host-sembark_session"]
    check_secure(c, True)
    assert c.value == "" and c.get("max-age") == "0", c
    json_error(call(tls, "GET", "/api/me", jar), "unauthenticated", 401)
