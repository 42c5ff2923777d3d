"""test_http_conventions.py - API.md "Conventions" as seen on the wire: security
headers on every answer, Cache-Control on API answers, JSON error bodies
with the right codes (404, 405, 415, 400, 413, 431/400), limits on request
heads and bodies, slow and idle clients, and never a 500.

The JSON body checks use POST /api/login, a JSON route whose generic checks
(content type, syntax, UTF-8, size) run before it answers anything else.
"""

import concurrent.futures
import json
import socket
import time

import pytest
import requests

import sembark
from sembark import assert_json_error, raw_request, security_header_problems

LOGIN = "/api/login"
JSON_CT = "application/json; charset=utf-8"


def post(stack, body, content_type=JSON_CT, path=LOGIN, extra=None):
    h = sembark.csrf_headers(stack)
    if content_type is not None:
        h["Content-Type"] = content_type
    h.update(extra or {})
    return stack.request("POST", path, data=body, headers=h)


def status_of(r):
    return r.status_code if hasattr(r, "status_code") else r.status


# ---- security headers and caching ----------------------------------------------

CASES = {
    "200 healthz": lambda s: s.get("/healthz"),
    "404 page": lambda s: s.get("/no/such/page"),
    "404 api": lambda s: s.get("/api/no-such-route"),
    "405 DELETE healthz": lambda s: s.request("DELETE", "/healthz"),
    "415 text/plain": lambda s: post(s, b'{"email":"a@b.cd","password":"x"}', "text/plain"),
    "400 malformed json": lambda s: post(s, b'{"email": '),
    "413 body": lambda s: post(s, b'{"email":"' + b"a" * 65600 + b'"}'),
}
EXPECTED = {"200 healthz": 200, "404 page": 404, "404 api": 404, "405 DELETE healthz": 405,
            "415 text/plain": 415, "400 malformed json": 400, "413 body": 413}


@pytest.mark.parametrize("case", sorted(CASES))
def test_security_headers(shared_stack, case):
    r = CASES[case](shared_stack)
    assert r.status_code == EXPECTED[case], (case, r.status_code, r.text[:300])
    assert security_header_problems(r) == [], (case, dict(r.headers))


@pytest.mark.parametrize("case", ["200 healthz", "404 api", "405 DELETE healthz", "415 text/plain",
                                  "400 malformed json", "413 body"])
def test_cache_control_no_store(shared_stack, case):
    r = CASES[case](shared_stack)
    cc = r.headers.get("Cache-Control", "")
    assert "no-store" in cc.lower(), (case, r.status_code, cc)


def test_503_has_security_headers_and_json(stack):
    stack.kill("authd")

    def get503():
        r = stack.get("/healthz")
        return [r] if r.status_code == 503 else None  # a Response is falsy for >= 400

    r = sembark.wait_until(get503, 4, interval=0.1, what="/healthz 503")[0]
    assert security_header_problems(r) == [], dict(r.headers)
    assert "no-store" in r.headers.get("Cache-Control", "").lower(), dict(r.headers)
    assert r.headers.get("Content-Type", "").startswith("application/json"), dict(r.headers)


# ---- error bodies ------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/no/such/page", "/api/no-such-route", "/api/", "/healthz/extra",
                                  "/%2e%2e/%2e%2e/etc/passwd", "/api/login/../../healthz/x"])
def test_not_found(shared_stack, path):
    r = shared_stack.get(path)
    assert r.status_code in (404, 400), (path, r.status_code, r.text[:200])
    assert_json_error(r, "not_found" if r.status_code == 404 else "bad_request")


@pytest.mark.parametrize("method,path", [("DELETE", "/healthz"), ("POST", "/healthz"),
                                         ("PUT", "/healthz"), ("GET", LOGIN),
                                         ("PATCH", "/.well-known/security.txt")])
def test_method_not_allowed(shared_stack, method, path):
    h = {"Content-Type": JSON_CT, "Origin": shared_stack.origin} if method != "GET" else {}
    r = shared_stack.request(method, path, data=b"{}" if method != "GET" else None, headers=h)
    assert_json_error(r, "method_not_allowed", status=405)


def test_method_not_allowed_has_allow_header(shared_stack):
    """RFC 9110 15.5.6: a 405 carries Allow with the methods the target supports."""
    r = shared_stack.request("DELETE", "/healthz")
    assert r.status_code == 405
    allow = r.headers.get("Allow", "")
    assert "GET" in [m.strip() for m in allow.split(",")], "Allow=%r" % allow


@pytest.mark.parametrize("ctype", ["text/plain", None, "application/x-www-form-urlencoded",
                                   "multipart/form-data; boundary=x", "application/jsonx",
                                   "text/json", "application/xml"])
def test_unsupported_media_type(shared_stack, ctype):
    r = post(shared_stack, b'{"email":"a@example.com","password":"correct horse battery"}', ctype)
    assert_json_error(r, "unsupported_media_type", status=415)


@pytest.mark.parametrize("ctype", ["application/json", "application/json; charset=utf-8",
                                   "Application/JSON;charset=UTF-8"])
def test_json_content_type_accepted(shared_stack, ctype):
    r = post(shared_stack, b'{"email":"a@example.com","password":"correct horse battery"}', ctype)
    assert r.status_code != 415, (ctype, r.status_code, r.text)
    assert r.status_code < 500 or r.status_code == 503, (r.status_code, r.text)
    assert_json_error(r)


@pytest.mark.parametrize("body", [b"{", b'{"email": ', b"not json", b"", b"[1, 2",
                                  b'{"email":"a@b.cd"}}', b'{"email":"a@b.cd",}',
                                  b"{'email':'a@b.cd'}", b'{"a":1}garbage', b"\x00"],
                         ids=lambda b: repr(b)[:30])
def test_malformed_json(shared_stack, body):
    assert_json_error(post(shared_stack, body), "bad_request", status=400)


@pytest.mark.parametrize("body", [b'{"email":"\xff\xfe","password":"x"}',          # not UTF-8 at all
                                  b'{"email":"\xc0\xafx@b.cd","password":"x"}',      # overlong
                                  b'{"email":"\xed\xa0\x80@b.cd","password":"x"}',   # UTF-16 surrogate
                                  b'{"email":"a@b.cd","password":"abc\xe2\x82"}',    # truncated sequence
                                  b'{"email":"\\ud800@b.cd","password":"x"}',        # lone surrogate escape
                                  b'{"em\xffail":"a@b.cd","password":"x"}'],         # bad key
                         ids=["ff-fe", "overlong", "surrogate", "truncated", "escaped-surrogate", "key"])
def test_invalid_utf8(shared_stack, body):
    assert_json_error(post(shared_stack, body), "bad_request", status=400)


def test_body_over_limit(shared_stack):
    body = b'{"email":"' + b"a" * (65537 - 12) + b'"}'
    assert len(body) == 65537
    r = post(shared_stack, body)
    assert_json_error(r, "payload_too_large", status=413)


def test_body_at_limit_is_not_413(shared_stack):
    body = b'{"email":"' + b"a" * (65536 - 12) + b'"}'
    assert len(body) == 65536
    r = post(shared_stack, body)
    assert r.status_code != 413, r.text
    assert r.status_code < 500 or r.status_code == 503, (r.status_code, r.text)


def test_announced_body_over_limit(shared_stack):
    """Content-Length: 65537 announced: 413, whether the server reads the body
    or answers at once."""
    s = shared_stack
    head = ("POST %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nOrigin: %s\r\nContent-Type: %s\r\n"
            "Content-Length: 65537\r\n\r\n" % (LOGIN, s.port, s.origin, JSON_CT)).encode()
    with sembark.raw_connect(s.port) as c:
        c.sendall(head)
        try:
            c.sendall(b"{" + b" " * 65535 + b"}")
        except (BrokenPipeError, ConnectionResetError):
            pass
        r = sembark.read_response(c)
    assert r is not None, "connection closed without an answer"
    assert_json_error(r, "payload_too_large", status=413)


def test_chunked_body_over_limit_refused(shared_stack):
    """A chunked body over the limit is refused: 413, or a refusal of chunked
    request bodies as such (400/411/501), never processed."""
    s = shared_stack
    chunk = b" " * 8192
    body = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(9)) + b"0\r\n\r\n"
    head = ("POST %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nOrigin: %s\r\nContent-Type: %s\r\n"
            "Transfer-Encoding: chunked\r\n\r\n" % (LOGIN, s.port, s.origin, JSON_CT)).encode()
    with sembark.raw_connect(s.port) as c:
        c.sendall(head)
        try:
            c.sendall(body)
        except (BrokenPipeError, ConnectionResetError):
            pass
        r = sembark.read_response(c)
    assert r is not None, "connection closed without an answer"
    if r.status == 413:
        assert_json_error(r, "payload_too_large")
    else:
        assert_json_error(r, status=(400, 411, 501))


# ---- request heads -------------------------------------------------------------------

def test_oversized_headers(shared_stack):
    s = shared_stack
    req = ("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nX-Big: %s\r\n\r\n" %
           (s.port, "a" * 20000)).encode()
    r = raw_request(s.port, req)
    assert r is not None, "connection closed without an answer"
    assert_json_error(r, status=(431, 400))
    assert security_header_problems(r) == [], r.headers


def test_too_many_headers(shared_stack):
    s = shared_stack
    hs = "".join("X-H%d: v\r\n" % i for i in range(100))
    req = ("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n%s\r\n" % (s.port, hs)).encode()
    r = raw_request(s.port, req)
    assert r is not None, "connection closed without an answer"
    assert_json_error(r, status=(431, 400))


def test_long_url_under_header_limit_is_404(shared_stack):
    r = shared_stack.get("/" + "x" * 8000)
    assert_json_error(r, status=(404, 414))


@pytest.mark.parametrize("line", [b"HELLO\r\n\r\n", b"GET\r\n\r\n",
                                  b"GET /healthz HTTP/1.1 extra\r\nHost: x\r\n\r\n",
                                  b"GET /healthz HTTP/7.5\r\nHost: x\r\n\r\n",
                                  b"GET /he\x00althz HTTP/1.1\r\nHost: x\r\n\r\n",
                                  b"GET /healthz HTTP/1.1\r\nNo colon here\r\n\r\n"],
                         ids=["word", "method-only", "extra-token", "bad-version", "nul", "bad-header"])
def test_malformed_request(shared_stack, line):
    r = raw_request(shared_stack.port, line)
    assert r is not None, "connection closed without an answer to %r" % line
    code = "http_version_not_supported" if r.status == 505 else "bad_request"
    assert_json_error(r, code, status=(400, 505) if b"7.5" in line else 400)
    assert security_header_problems(r) == [], r.headers


def test_binary_garbage_is_not_a_crash(shared_stack):
    tls_hello = bytes.fromhex("16030100a5010000a10303") + bytes(range(32)) + b"\r\n\r\n"
    r = raw_request(shared_stack.port, tls_hello)
    if r is not None:
        assert_json_error(r, status=400)
    assert shared_stack.get("/healthz").status_code == 200


def test_conflicting_content_length_rejected(shared_stack):
    """Two different Content-Length values (request smuggling) -> 400 (RFC 9112 6.3)."""
    s = shared_stack
    req = ("POST %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nOrigin: %s\r\nContent-Type: %s\r\n"
           "Content-Length: 2\r\nContent-Length: 40\r\n\r\n{}" % (LOGIN, s.port, s.origin, JSON_CT)).encode()
    with sembark.raw_connect(s.port) as c:
        c.sendall(req)
        r = sembark.read_response(c, timeout=15)
    assert r is not None, "closed without an answer"
    assert_json_error(r, "bad_request", status=400)


ODD_REQUESTS = [
    b"TRACE /healthz HTTP/1.1\r\nHost: x\r\n\r\n",
    b"OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n",
    b"PROPFIND /api/login HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET http://127.0.0.1/healthz HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET /healthz?%zz=%00&a=\xff HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET /api/%00 HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET /healthz HTTP/1.0\r\n\r\n",
    b"GET /healthz HTTP/1.1\r\n\r\n",
    b"POST /api/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: -1\r\n\r\n",
    b"POST /api/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: abc\r\n\r\n",
    b"POST /api/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
    b"Content-Length: 99999999999999999999\r\n\r\n",
    b"POST /api/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\n"
    b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    b"POST /api/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    b"zz\r\n{}\r\n0\r\n\r\n",
    b"POST /api/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n[]",
    b"POST /api/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 4\r\n\r\nnull",
    b"POST /api/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 14\r\n\r\n"
    b'{"email":null}',
    b"POST /api/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 20\r\n\r\n"
    b'{"email":[1,2,{}],"p',
    b"GET /healthz HTTP/1.1\r\nHost: x\r\nCookie: " + b"a=b; " * 500 + b"\r\n\r\n",
    b"GET /healthz HTTP/1.1\r\nHost: x\r\nOrigin: null\r\nSec-Fetch-Site: cross-site\r\n\r\n",
]


@pytest.mark.parametrize("req", ODD_REQUESTS, ids=lambda b: repr(b[:40]))
def test_no_500(shared_stack, req):
    if b"Host: x" in req:
        req = req.replace(b"Host: x", b"Host: 127.0.0.1:%d" % shared_stack.port)
    if b"POST /api/login" in req:
        req = req.replace(b"Host:", b"Origin: " + shared_stack.origin.encode() + b"\r\nHost:", 1)
    r = raw_request(shared_stack.port, req, timeout=15)
    if r is None:
        return  # closing a connection is an answer to garbage
    assert r.status != 500 and r.status < 600, (r.status, r.body[:300])
    if r.status >= 400:
        assert_json_error(r)
    assert shared_stack.get("/healthz").status_code == 200


def test_pipelined_requests(shared_stack):
    s = shared_stack
    one = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n" % s.port
    with sembark.raw_connect(s.port) as c:
        c.sendall(one + one.replace(b"/healthz", b"/nope"))
        r1 = sembark.read_response(c)
        r2 = sembark.read_response(c)
    assert r1 is not None and r1.status == 200, r1
    assert r2 is not None and r2.status == 404, r2


# ---- slow and idle clients ----------------------------------------------------------

@pytest.mark.parametrize("partial", [
    b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n",
    b"POST /api/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
    b"Content-Length: 100\r\n\r\n{\"email\":",
], ids=["head", "body"])
def test_slow_client_times_out(make_stack, partial):
    stack = make_stack(env={"SEMBARK_INGRESS_REQUEST_TIMEOUT": "2"})
    c = sembark.raw_connect(stack.port, timeout=10)
    try:
        c.sendall(partial)
        t0 = time.monotonic()
        # others are served meanwhile
        for _ in range(3):
            st, body, dt = stack.health(timeout=5)
            assert st == 200 and dt < 1.5, (st, body, dt)
        r = sembark.read_response(c, timeout=10)
        waited = time.monotonic() - t0
    except socket.timeout:
        raise AssertionError("half a request was still held open after 10s "
                             "(SEMBARK_INGRESS_REQUEST_TIMEOUT=2)") from None
    finally:
        c.close()
    assert waited < 6, "closed only after %.1fs" % waited
    if r is not None:
        assert r.status == 408, r
        assert_json_error(r)


def test_idle_connections_do_not_block(shared_stack):
    s = shared_stack
    idle = []
    try:
        for _ in range(200):
            idle.append(sembark.raw_connect(s.port, timeout=5))
        # half of them send half a request
        for c in idle[::2]:
            c.sendall(b"GET /healthz HTTP/1.1\r\n")
        t0 = time.monotonic()
        st, body, dt = s.health(timeout=5)
        assert st == 200, (st, body)
        assert dt < 2, "a new request waited %.2fs behind 200 idle connections" % dt
        # and many at once are served
        with concurrent.futures.ThreadPoolExecutor(max_workers=20) as ex:
            res = list(ex.map(lambda _: s.health(timeout=5)[0], range(40)))
        assert res == [200] * 40, res
        assert time.monotonic() - t0 < 6
    finally:
        for c in idle:
            c.close()


def test_keep_alive_connection_reused(shared_stack):
    with requests.Session() as sess:
        sess.trust_env = False
        for _ in range(5):
            r = sess.get(shared_stack.url("/healthz"), timeout=5)
            assert r.status_code == 200
            assert json.loads(r.text)["status"] == "ok"


def test_idle_keep_alive_closed(make_stack):
    s = make_stack(env={"SEMBARK_INGRESS_IDLE_TIMEOUT": "1"})
    with sembark.raw_connect(s.port) as c:
        c.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n" % s.port)
        r = c.read_response(5)
        assert r is not None and r.status == 200, r
        t0 = time.monotonic()
        try:
            again = c.read_response(6)
        except socket.timeout:
            raise AssertionError("idle keep-alive connection still open after 6s "
                                 "(SEMBARK_INGRESS_IDLE_TIMEOUT=1)") from None
        assert again is None or again.status == 408, again
        assert time.monotonic() - t0 < 4


def test_connection_limit_recovers(make_stack):
    """Over [ingress] max_connections idle connections: no crash, and once
    they go the server answers again at once."""
    s = make_stack(env={"SEMBARK_INGRESS_MAX_CONNECTIONS": "16"})
    conns = []
    try:
        for _ in range(40):
            try:
                conns.append(sembark.raw_connect(s.port, timeout=2))
            except OSError:
                break
        time.sleep(0.2)
    finally:
        for c in conns:
            c.close()
    st = sembark.wait_until(lambda: s.health(timeout=2)[0] == 200, 5, interval=0.1,
                            what="/healthz 200 after the connections closed")
    assert st
    assert s.daemons["ingressd"].running()
