"""test_http_differential.py - issue 11, "Differential HTTP tests": tricky
requests sent to the real sembark-ingressd over a raw socket, each checked
against what RFC 9112 / RFC 9110 say a server must or should do, and fed to
Python's h11 (Debian python3-h11) acting as a server, as a second opinion.

Every row of CASES sends its bytes followed, in the same write, by PROBE (a
plain GET of an unknown path), and holds:
  sembark  what ingressd must answer (the RFC verdict asserted): "<status>
           keep|close" as its Connection header says and the socket confirms
           (close: end of stream right after the answer), then "; probe
           <status>" when the pipelined PROBE was answered in turn;
  h11      what h11.Connection(h11.SERVER) makes of the same bytes, as
           recorded with h11 0.14: "<method> <target> <version>[ body=N]
           keep|close|switch" for a request it accepts, then "; probe" when it
           also parsed PROBE, or "error <its status hint>";
  rfc      the RFC sections behind the verdict (README "HTTP conformance").
Both columns are asserted, so a change on either side is noticed. A row
where the two differ (one refuses and the other accepts, both refuse with
different statuses, or they disagree on keeping the connection) must be
named in services/ingressd/README.md, section "HTTP conformance", where the
decision and its reason are written.
"""

import os
import re
import socket

import pytest

import sembark
from sembark import assert_json_error

h11 = pytest.importorskip("h11", reason="python3-h11: sh scripts/deps.sh test")

PROBE = b"GET /diff-probe HTTP/1.1\r\nHost: a\r\n\r\n"
README = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "services", "ingressd",
                      "README.md")
REFUSALS = (400, 431, 501, 505)  # the statuses of a request refused before routing


def req(line, *headers, body=b""):
    return line + b"\r\n" + b"".join(h + b"\r\n" for h in headers) + b"\r\n" + body


def head_of_size(n):
    """A GET whose head, request line to empty line included, is n bytes."""
    pre = b"GET /diff HTTP/1.1\r\nHost: a\r\nX-Pad: "
    post = b"\r\n\r\n"
    return pre + b"p" * (n - len(pre) - len(post)) + post


H = b"Host: a"
POST = b"POST /diff HTTP/1.1"
GET = b"GET /diff HTTP/1.1"

# (id, bytes, sembark verdict, h11 as recorded, RFC sections)
CASES = [
    # framing: Content-Length and Transfer-Encoding
    ("cl-once", req(POST, H, b"Content-Length: 3", body=b"abc"),
     "404 keep; probe 404", 'POST /diff 1.1 body=3 keep; probe', "9112 6.2"),
    ("cl-twice-equal", req(POST, H, b"Content-Length: 3", b"Content-Length: 3", body=b"abc"),
     "400 close", 'POST /diff 1.1 body=3 keep; probe', "9110 8.6, 9112 6.3"),
    ("cl-twice-different", req(POST, H, b"Content-Length: 3", b"Content-Length: 4", body=b"abcd"),
     "400 close", 'error 400', "9112 6.3 (5)"),
    ("cl-list-equal", req(POST, H, b"Content-Length: 3, 3", body=b"abc"),
     "400 close", 'POST /diff 1.1 body=3 keep; probe', "9110 8.6, 9112 6.3"),
    ("cl-plus-sign", req(POST, H, b"Content-Length: +3", body=b"abc"),
     "400 close", 'error 400', "9110 8.6"),
    ("cl-then-te-chunked", req(POST, H, b"Content-Length: 5", b"Transfer-Encoding: chunked", body=b"0\r\n\r\n"),
     "400 close", 'POST /diff 1.1 keep; probe', "9112 6.1, 6.3 (3), 11.2"),
    ("te-chunked-then-cl", req(POST, H, b"Transfer-Encoding: chunked", b"Content-Length: 5", body=b"0\r\n\r\n"),
     "400 close", 'POST /diff 1.1 keep; probe', "9112 6.1, 6.3 (3), 11.2"),
    ("cl-then-te-gzip", req(POST, H, b"Content-Length: 3", b"Transfer-Encoding: gzip", body=b"abc"),
     "400 close", 'error 501', "9112 6.3 (3, 4)"),
    ("te-chunked", req(POST, H, b"Transfer-Encoding: chunked", body=b"3\r\nabc\r\n0\r\n\r\n"),
     "501 close", 'POST /diff 1.1 body=3 keep; probe', "9112 6.1, 7.1"),
    ("te-gzip-chunked", req(POST, H, b"Transfer-Encoding: gzip, chunked", body=b"0\r\n\r\n"),
     "501 close", 'error 501', "9112 6.1"),
    ("te-gzip", req(POST, H, b"Transfer-Encoding: gzip", body=b"abc"),
     "400 close", 'error 501', "9112 6.3 (4)"),
    ("te-chunked-gzip", req(POST, H, b"Transfer-Encoding: chunked, gzip", body=b"abc"),
     "400 close", 'error 501', "9112 6.3 (4)"),
    ("te-chunked-twice", req(POST, H, b"Transfer-Encoding: chunked", b"Transfer-Encoding: chunked", body=b"0\r\n\r\n"),
     "400 close", 'error 501', "9112 6.1, 7"),
    ("te-chunked-http10", req(b"POST /diff HTTP/1.0", b"Transfer-Encoding: chunked", body=b"3\r\nabc\r\n0\r\n\r\n"),
     "400 close", 'POST /diff 1.0 body=3 close', "9112 6.1"),
    ("te-space-before-colon", req(POST, H, b"Transfer-Encoding : chunked", b"Content-Length: 3", body=b"abc"),
     "400 close", 'error 400', "9112 5.1"),
    # line endings, folding, bytes in fields
    ("obs-fold", req(GET, H, b"X-A: a", b" b"),
     "400 close", 'GET /diff 1.1 keep; probe', "9112 5.2"),
    ("obs-fold-first-line", req(GET, b" X-A: a", H),
     "400 close", 'error 400', "9112 2.2"),
    ("bare-lf", b"GET /diff HTTP/1.1\nHost: a\n\n",
     "400 close", 'GET /diff 1.1 keep; probe', "9112 2.2"),
    ("bare-lf-head-end", b"GET /diff HTTP/1.1\r\nHost: a\r\n\n",
     "400 close", 'GET /diff 1.1 keep; probe', "9112 2.2"),
    ("bare-cr-in-value", req(GET, H, b"X-A: a\rb"),
     "400 close", 'error 400', "9112 2.2"),
    ("nul-in-value", req(GET, H, b"X-A: a\x00b"),
     "400 close", 'error 400', "9110 5.5"),
    ("ctl-in-value", req(GET, H, b"X-A: a\x01b"),
     "400 close", 'GET /diff 1.1 keep; probe', "9110 5.5"),
    ("del-in-value", req(GET, H, b"X-A: a\x7fb"),
     "400 close", 'GET /diff 1.1 keep; probe', "9110 5.5"),
    ("obs-text-in-value", req(GET, H, b"X-A: caf\xc3\xa9"),
     "404 keep; probe 404", 'GET /diff 1.1 keep; probe', "9110 5.5"),
    ("nul-in-name", req(GET, H, b"X\x00A: b"),
     "400 close", 'error 400', "9110 5.1"),
    ("ctl-in-name", req(GET, H, b"X\x01A: b"),
     "400 close", 'error 400', "9110 5.1"),
    ("space-before-colon", req(GET, b"Host : a"),
     "400 close", 'error 400', "9112 5.1"),
    ("tab-before-colon", req(GET, b"Host\t: a"),
     "400 close", 'error 400', "9112 5.1"),
    ("empty-name", req(GET, H, b": b"),
     "400 close", 'error 400', "9110 5.1"),
    ("no-colon", req(GET, H, b"X-A b"),
     "400 close", 'error 400', "9112 5"),
    # request target
    ("absolute-form", req(b"GET http://a/diff?x=1 HTTP/1.1", H),
     "404 keep; probe 404", 'GET http://a/diff?x=1 1.1 keep; probe', "9112 3.2.2"),
    ("absolute-form-https-port", req(b"GET https://a.example:8443/diff HTTP/1.1", H),
     "404 keep; probe 404", 'GET https://a.example:8443/diff 1.1 keep; probe', "9112 3.2.2"),
    ("absolute-form-userinfo", req(b"GET http://u@a/diff HTTP/1.1", H),
     "400 close", 'GET http://u@a/diff 1.1 keep; probe', "9110 4.2.4"),
    ("absolute-form-empty-host", req(b"GET http:///diff HTTP/1.1", H),
     "400 close", 'GET http:///diff 1.1 keep; probe', "9110 4.2.1"),
    ("absolute-form-ftp", req(b"GET ftp://a/diff HTTP/1.1", H),
     "400 close", 'GET ftp://a/diff 1.1 keep; probe', "9112 3.2.2, 9110 4.2"),
    ("asterisk-options", req(b"OPTIONS * HTTP/1.1", H),
     "501 close", 'OPTIONS * 1.1 keep; probe', "9112 3.2.4, 9110 9.1"),
    ("asterisk-get", req(b"GET * HTTP/1.1", H),
     "400 close", 'GET * 1.1 keep; probe', "9112 3.2.4"),
    ("authority-connect", req(b"CONNECT a:443 HTTP/1.1", b"Host: a:443"),
     "501 close", 'CONNECT a:443 1.1 switch', "9112 3.2.3, 9110 9.3.6"),
    ("authority-get", req(b"GET a:443 HTTP/1.1", H),
     "400 close", 'GET a:443 1.1 keep; probe', "9112 3.2"),
    ("bad-percent", req(b"GET /di%zzff HTTP/1.1", H),
     "400 close", 'GET /di%zzff 1.1 keep; probe', "9112 3.2, 3986 2.1"),
    ("short-percent", req(b"GET /diff%4 HTTP/1.1", H),
     "400 close", 'GET /diff%4 1.1 keep; probe', "9112 3.2, 3986 2.1"),
    ("fragment", req(b"GET /diff#frag HTTP/1.1", H),
     "400 close", 'GET /diff#frag 1.1 keep; probe', "9112 3.2.1"),
    ("non-ascii-target", req(b"GET /caf\xc3\xa9 HTTP/1.1", H),
     "400 close", 'error 400', "9112 3.2"),
    # request line
    ("double-space", req(b"GET  /diff HTTP/1.1", H),
     "400 close", 'error 400', "9112 3"),
    ("space-before-version", req(b"GET /diff  HTTP/1.1", H),
     "400 close", 'error 400', "9112 3"),
    ("trailing-space", req(b"GET /diff HTTP/1.1 ", H),
     "400 close", 'error 400', "9112 3"),
    ("tab-separator", req(b"GET\t/diff HTTP/1.1", H),
     "400 close", 'error 400', "9112 3"),
    ("leading-crlf", b"\r\n" + req(GET, H),
     "404 keep; probe 404", 'error 400', "9112 2.2"),
    ("leading-crlf-twice", b"\r\n\r\n" + req(GET, H),
     "404 keep; probe 404", 'error 400', "9112 2.2"),
    ("leading-bare-lf", b"\n" + req(GET, H),
     "400 close", 'error 400', "9112 2.2"),
    # versions
    ("http10", req(b"GET /diff HTTP/1.0"),
     "404 close", 'GET /diff 1.0 close', "9112 9.3"),
    ("http10-keep-alive", req(b"GET /diff HTTP/1.0", b"Connection: keep-alive"),
     "404 keep; probe 404", 'GET /diff 1.0 close', "9112 9.3, C.2.2"),
    ("http11-close", req(GET, H, b"Connection: close"),
     "404 close", 'GET /diff 1.1 close', "9112 9.3, 9.6"),
    ("http12", req(b"GET /diff HTTP/1.2", H),
     "404 keep; probe 404", 'GET /diff 1.2 keep; probe', "9110 2.5"),
    ("http20", req(b"GET /diff HTTP/2.0", H),
     "505 close", 'GET /diff 2.0 keep; probe', "9110 2.5, 15.6.6"),
    ("http09-version", req(b"GET /diff HTTP/0.9"),
     "505 close", 'GET /diff 0.9 close', "9110 15.6.6"),
    ("http09-no-version", b"GET /diff\r\n",
     "400 close", 'error 400', "9112 2.3, 3"),
    ("h2-preface", b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
     "400 close", 'PRI * 2.0 keep; error 400', "9113 3.4"),
    ("lower-case-version", req(b"GET /diff http/1.1", H),
     "400 close", 'error 400', "9112 2.3"),
    # Host
    ("no-host-11", req(GET),
     "400 close", 'error 400', "9112 3.2"),
    ("no-host-10", req(b"GET /diff HTTP/1.0", b"Connection: keep-alive"),
     "404 keep; probe 404", 'GET /diff 1.0 close', "9112 3.2"),
    ("two-hosts", req(GET, H, b"Host: b"),
     "400 close", 'error 400', "9112 3.2"),
    ("host-invalid", req(GET, b"Host: a b"),
     "400 close", 'GET /diff 1.1 keep; probe', "9112 3.2, 9110 7.2"),
    ("host-userinfo", req(GET, b"Host: u@a"),
     "400 close", 'GET /diff 1.1 keep; probe', "9112 3.2, 9110 7.2"),
    ("host-empty", req(GET, b"Host:"),
     "404 keep; probe 404", 'GET /diff 1.1 keep; probe', "9110 7.2"),
    ("host-ip-literal-port", req(GET, b"Host: [::1]:8080"),
     "404 keep; probe 404", 'GET /diff 1.1 keep; probe', "9110 7.2"),
    # methods (case-sensitive, RFC 9110 9.1); an unknown one is 405 (404 on an unknown
    # path), not 501: a decided deviation from a SHOULD, see the README
    ("method-get", req(b"GET /.well-known/security.txt HTTP/1.1", H),
     "200 keep; probe 404", 'GET /.well-known/security.txt 1.1 keep; probe', "9110 9.1"),
    ("method-lower", req(b"get /.well-known/security.txt HTTP/1.1", H),
     "405 keep; probe 404", 'get /.well-known/security.txt 1.1 keep; probe', "9110 9.1"),
    ("method-mixed", req(b"Get /.well-known/security.txt HTTP/1.1", H),
     "405 keep; probe 404", 'Get /.well-known/security.txt 1.1 keep; probe', "9110 9.1"),
    ("method-unknown", req(b"FOO /.well-known/security.txt HTTP/1.1", H),
     "405 keep; probe 404", 'FOO /.well-known/security.txt 1.1 keep; probe', "9110 9.1"),
    ("method-webdav", req(b"PROPFIND /.well-known/security.txt HTTP/1.1", H),
     "405 keep; probe 404", 'PROPFIND /.well-known/security.txt 1.1 keep; probe', "9110 9.1"),
    ("method-unknown-path", req(b"FOO /diff HTTP/1.1", H),
     "404 keep; probe 404", 'FOO /diff 1.1 keep; probe', "9110 9.1"),
    ("method-known-not-allowed", req(b"DELETE /.well-known/security.txt HTTP/1.1", H),
     "405 keep; probe 404", 'DELETE /.well-known/security.txt 1.1 keep; probe', "9110 15.5.6"),
    ("method-not-token", req(b"G(T /diff HTTP/1.1", H),
     "400 close", 'error 400', "9112 3.1"),
    # Expect, connection
    ("expect-unknown", req(GET, H, b"Expect: foo"),
     "404 keep; probe 404", 'GET /diff 1.1 keep; probe', "9110 10.1.1"),
    ("connection-close-among-options", req(GET, H, b"Connection: keep-alive, close"),
     "404 close", 'GET /diff 1.1 close', "9110 7.6.1"),
    # limits: head bytes (16384) and header lines (64)
    ("head-at-limit", head_of_size(16384),
     "404 keep; probe 404", 'GET /diff 1.1 keep; probe', "9110 15.5.20 (6585 5)"),
    ("head-over-limit", head_of_size(16385),
     "431 close", 'GET /diff 1.1 keep; probe', "9110 15.5.20 (6585 5)"),
    ("headers-65", req(GET, H, *[b"X-%d: v" % i for i in range(64)]),
     "431 close", 'GET /diff 1.1 keep; probe', "6585 5"),
]


# ---- the two sides ---------------------------------------------------------------------

def sembark_outcome(port, data):
    """What ingressd answers to data + PROBE, as the sembark column spells it."""
    with sembark.raw_connect(port, timeout=10) as c:
        c.sendall(data + PROBE)
        r = c.read_response(10)
        assert r is not None, "closed without an answer"
        if r.status >= 400:
            assert_json_error(r)
        if r.headers.get("connection") == "close":
            extra = c.read_response(5)
            assert extra is None, "an answer after Connection: close: %r" % extra
            return "%d close" % r.status
        assert r.headers.get("connection") == "keep-alive", r.headers
        p = c.read_response(5)
        return "%d keep; %s" % (r.status, "probe %d" % p.status if p else "no probe")


_H11_STATES = {h11.DONE: "keep", h11.MUST_CLOSE: "close", h11.MIGHT_SWITCH_PROTOCOL: "switch"}


def _h11_request(conn):
    """The next request's events: (Request, body length), or None on NEED_DATA."""
    req_, body = None, 0
    for _ in range(100):
        e = conn.next_event()
        if e is h11.NEED_DATA:
            return None
        if isinstance(e, h11.Request):
            req_ = e
        elif isinstance(e, h11.Data):
            body += len(e.data)
        elif isinstance(e, h11.EndOfMessage):
            return req_, body
    raise AssertionError("h11 gave more than 100 events")


def h11_outcome(data):
    """What h11 as a server makes of data + PROBE, as the h11 column spells it."""
    conn = h11.Connection(h11.SERVER)
    conn.receive_data(data + PROBE)
    parts = []
    try:
        got = _h11_request(conn)
        if got is None:
            return "need-data"
        r, body = got
        state = _H11_STATES[conn.their_state]
        parts.append("%s %s %s%s %s" % (r.method.decode("latin-1"), r.target.decode("latin-1"),
                                         r.http_version.decode(), " body=%d" % body if body else "",
                                         state))
        if state == "keep":
            conn.send(h11.Response(status_code=204, headers=[]))
            conn.send(h11.EndOfMessage())
            conn.start_next_cycle()
            got = _h11_request(conn)
            parts.append("probe" if got and got[0].target == b"/diff-probe" else "no probe")
    except h11.RemoteProtocolError as e:
        parts.append("error %d" % e.error_status_hint)
    return "; ".join(parts)


def disagreement(verdict, h11_says):
    """Why sembark's verdict and h11's outcome differ, or None."""
    m = re.match(r"(\d{3}) (keep|close)", verdict)
    status, persist = int(m.group(1)), m.group(2)
    refused = persist == "close" and status in REFUSALS
    h11_error = re.match(r"error (\d{3})$", h11_says)
    if refused != bool(h11_error):
        return "sembark refuses" if refused else "h11 refuses"
    if refused:
        return None if int(h11_error.group(1)) == status else "statuses differ"
    h11_persist = h11_says.split(";")[0].rsplit(" ", 1)[1]
    return None if h11_persist == persist else "persistence differs"


def conformance_section():
    text = open(README, encoding="utf-8").read()
    m = re.search(r"^\*\*HTTP conformance\*\*(.*?)(?=^\*\*|\Z)", text, re.S | re.M)
    assert m, "services/ingressd/README.md has no **HTTP conformance** section"
    return m.group(1)


# ---- the tests -------------------------------------------------------------------------

IDS = [c[0] for c in CASES]


def test_case_ids_unique():
    assert len(IDS) == len(set(IDS))


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_h11_as_recorded(case):
    cid, data, _, recorded, _ = case
    assert h11_outcome(data) == recorded, cid


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_sembark_rfc_verdict(shared_stack, case):
    cid, data, verdict, _, rfc = case
    assert sembark_outcome(shared_stack.port, data) == verdict, "%s (RFC %s)" % (cid, rfc)


def test_every_disagreement_is_decided_in_readme():
    section = conformance_section()
    undecided = []
    for cid, _, verdict, h11_says, _ in CASES:
        why = disagreement(verdict, h11_says)
        if why and ("`%s`" % cid) not in section:
            undecided.append("%s (%s)" % (cid, why))
    assert not undecided, "disagreements with h11 not written down in the README: %s" % undecided


def test_readme_names_only_real_cases():
    named = set(re.findall(r"^\| `([a-z0-9-]+)`", conformance_section(), re.M))
    assert named, "no case named in the README's conformance table"
    assert named <= set(IDS), "README rows without a case: %s" % sorted(named - set(IDS))


def test_pipelined_answers_in_order(shared_stack):
    """Three requests in one write (a body in the middle): three answers in order."""
    data = (req(b"GET /diff-1 HTTP/1.1", H)
            + req(b"DELETE /.well-known/security.txt HTTP/1.1", H, b"Content-Length: 2", body=b"{}")
            + req(b"GET /.well-known/security.txt HTTP/1.1", H, b"Connection: close"))
    with sembark.raw_connect(shared_stack.port, timeout=10) as c:
        c.sendall(data)
        got = [c.read_response(10) for _ in range(3)]
        assert c.read_response(5) is None
    assert [r.status for r in got] == [404, 405, 200]
    assert [r.headers["connection"] for r in got] == ["keep-alive", "keep-alive", "close"]
    conn = h11.Connection(h11.SERVER)
    conn.receive_data(data)
    targets = []
    for _ in range(3):
        r, _ = _h11_request(conn)
        targets.append(r.target)
        if conn.their_state is h11.DONE:
            conn.send(h11.Response(status_code=204, headers=[]))
            conn.send(h11.EndOfMessage())
            conn.start_next_cycle()
    assert targets == [b"/diff-1", b"/.well-known/security.txt", b"/.well-known/security.txt"]
    assert conn.their_state is h11.MUST_CLOSE


@pytest.mark.parametrize("method", [b"get", b"Get", b"FOO", b"PROPFIND"])
def test_unknown_method_is_method_not_allowed(shared_stack, method):
    """An unknown or lower-case method: 405 method_not_allowed with Allow on a known path,
    404 not_found elsewhere, never 501 (API.md's error codes have none; README, "HTTP
    conformance")."""
    data = (req(method + b" /.well-known/security.txt HTTP/1.1", H)
            + req(method + b" /diff HTTP/1.1", H, b"Connection: close"))
    with sembark.raw_connect(shared_stack.port, timeout=10) as c:
        c.sendall(data)
        known, unknown = c.read_response(10), c.read_response(10)
    assert_json_error(known, "method_not_allowed", status=405)
    assert known.headers.get("allow") == "GET, HEAD", known.headers
    assert_json_error(unknown, "not_found", status=404)
    assert "allow" not in unknown.headers


def _expect_head(version, host=b"Host: a\r\n"):
    return (b"POST /diff HTTP/%s\r\n%sExpect: 100-continue\r\nContent-Length: 3\r\n\r\n"
            % (version, host))


def test_expect_100_continue(shared_stack):
    """RFC 9110 10.1.1: 100 Continue before the body is sent, then the final answer;
    h11 agrees that the client waits."""
    with sembark.raw_connect(shared_stack.port, timeout=10) as c:
        c.sendall(_expect_head(b"1.1"))
        c.settimeout(5)
        first = c.sock.recv(64)
        assert first.startswith(b"HTTP/1.1 100 Continue\r\n\r\n"), first
        c.buf = first[len(b"HTTP/1.1 100 Continue\r\n\r\n"):]
        c.sendall(b"abc")
        r = c.read_response(10)
    assert r.status == 404 and r.headers["connection"] == "keep-alive"
    conn = h11.Connection(h11.SERVER)
    conn.receive_data(_expect_head(b"1.1"))
    assert isinstance(conn.next_event(), h11.Request)
    assert conn.they_are_waiting_for_100_continue


def test_expect_100_continue_ignored_in_http10(shared_stack):
    """RFC 9110 10.1.1: a 100-continue expectation in HTTP/1.0 MUST be ignored:
    no interim answer, the server waits for the body."""
    with sembark.raw_connect(shared_stack.port, timeout=10) as c:
        c.sendall(_expect_head(b"1.0", b""))
        c.settimeout(0.5)
        with pytest.raises(socket.timeout):
            c.sock.recv(64)
        c.sendall(b"abc")
        r = c.read_response(10)
    assert r.status == 404 and r.headers["connection"] == "close"
    conn = h11.Connection(h11.SERVER)
    conn.receive_data(_expect_head(b"1.0", b""))
    assert isinstance(conn.next_event(), h11.Request)
    assert not conn.they_are_waiting_for_100_continue
