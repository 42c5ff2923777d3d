"""test_conn_abuse.py - sembark-ingressd under connection abuse (issue 11,
"Connection abuse"): slowloris and thousands of idle keep-alive
connections held while a normal client is still served; the per-address
connection cap ([ingress] max_connections_per_address) refusing one
address's extra connection at accept while other addresses are served;
[ingress] max_connections and the cap answered before any TLS handshake;
header floods and oversized request lines answered 431/400 and closed;
slowloris connections closed by [ingress] request_timeout.

Many connections come from other loopback addresses (127.0.0.2, ...: the
whole 127/8 is local on Linux), bound with socket.bind, so that the
per-address cap does not refuse them. Every loop is bounded in count and
time. No timed assertion is tighter than 1 s: the latency goal (p99 under
50 ms) is a benchmark row (bench/run.sh, "held connections"); the test
prints the normal client's p50/p99.
"""

import resource
import select
import shutil
import socket
import ssl
import threading
import time

import pytest

import sembark
from sembark import assert_json_error
from test_tls import make_cert, tls_extra

pytestmark = pytest.mark.no_valgrind("thousands of connections and a p99 latency bound")

HOLD_IDLE = 5000
HOLD_SLOW = 200
PER_SOURCE = 200         # connections from one loopback address (under the default cap, 256)
NORMAL_REQUESTS = 150


def raise_nofile(need):
    """RLIMIT_NOFILE of this process (and the daemons it starts) to at least need; else skip."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= need:
        return
    if hard != resource.RLIM_INFINITY and hard < need:
        pytest.skip("RLIMIT_NOFILE hard limit %d < %d" % (hard, need))
    resource.setrlimit(resource.RLIMIT_NOFILE, (need, hard))


def readable(socks, timeout=0):
    """The sockets of socks with something to read (or at EOF); poll, not select: fds past 1024."""
    p = select.poll()
    by_fd = {s.fileno(): s for s in socks}
    for fd in by_fd:
        p.register(fd, select.POLLIN)
    return [by_fd[fd] for fd, _ in p.poll(int(timeout * 1000))]


def connect_from(port, source, timeout=10):
    """A TCP connection to 127.0.0.1:port from the loopback address source."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.settimeout(timeout)
        s.bind((source, 0))
        s.connect(("127.0.0.1", port))
    except OSError:
        s.close()
        raise
    return sembark.RawConn(s)


def sources(first, n):
    """n loopback addresses from 127.0.0.first on (127.0.1.x past 255)."""
    return ["127.0.%d.%d" % divmod(first + i, 256) for i in range(n)]


def get_req(port, path="/healthz"):
    return ("GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n" % (path, port)).encode()


def closed_soon(conn, timeout=5):
    """True when the server closes conn (EOF or reset) within timeout; what it sends is dropped."""
    conn.settimeout(timeout)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if not conn.sock.recv(65536):
                return True
    except (ConnectionResetError, BrokenPipeError):
        return True
    except socket.timeout:
        return False
    return False


def percentile(values, p):
    v = sorted(values)
    return v[min(len(v) - 1, int(round(p / 100.0 * (len(v) - 1))))]


# ---- the per-address cap -------------------------------------------------------

CAP = 8


@pytest.fixture(scope="module")
def capped(make_shared_stack):
    return make_shared_stack(env={"SEMBARK_INGRESS_MAX_CONNECTIONS_PER_ADDRESS": str(CAP)})


def test_per_address_cap(capped):
    """CAP connections from one address are held; the next is refused at
    once (429, Retry-After, closed) without its request being read; other
    addresses are still served; once one closes, the address is served again."""
    st = capped
    held = [connect_from(st.port, "127.0.0.2") for _ in range(CAP)]
    try:
        # the held ones are served (and so accepted and counted)
        for c in held:
            c.sendall(get_req(st.port, "/.well-known/security.txt"))
            r = c.read_response(10)
            assert r is not None and r.status in (200, 404), r
        extra = connect_from(st.port, "127.0.0.2")
        with extra:
            r = extra.read_response(5)  # answered before any request is sent
            assert r is not None, "the extra connection was closed without an answer"
            assert_json_error(r, "too_many_connections", status=429)
            assert r.headers.get("retry-after") == "1", r.headers
            assert r.headers.get("connection") == "close", r.headers
            assert closed_soon(extra), "the refused connection was not closed"
        # another address is served meanwhile
        status, _ = sembark.http_get_from(st.port, "/healthz", "127.0.0.3", timeout=5)
        assert status == 200
        # one of the held closes: the address may connect again
        held.pop().close()

        def served_again():
            with connect_from(st.port, "127.0.0.2") as c:
                c.sendall(get_req(st.port))
                r = c.read_response(5)
                return r is not None and r.status == 200
        sembark.wait_until(served_again, 5, interval=0.1,
                           what="127.0.0.2 served again after one of its connections closed")
    finally:
        for c in held:
            c.close()
    logs = st.stderr("ingressd")
    assert 'msg="connection refused" reason=max_connections_per_address status=429' in logs, \
        logs[-2000:]
    for addr in ("127.0.0.2", "127.0.0.3"):
        assert addr not in logs, "a client address was logged"


def test_per_address_cap_ipv4_sources_apart(capped):
    """The cap is per address: CAP connections from each of three addresses are all served."""
    st = capped
    held = []
    try:
        for src in ("127.0.0.4", "127.0.0.5", "127.0.0.6"):
            for _ in range(CAP):
                c = connect_from(st.port, src)
                held.append(c)
                c.sendall(get_req(st.port, "/.well-known/security.txt"))
        for c in held:
            r = c.read_response(10)
            assert r is not None and r.status in (200, 404), r
    finally:
        for c in held:
            c.close()


def test_one_address_cannot_take_every_slot(make_stack):
    """The issue's reproduction with the default limits (max_connections
    4096, max_connections_per_address 256): 4,200 connections from one
    address hold 256 slots and no more, every other one is refused at once,
    and another address is still served (before: all 4,096 slots taken,
    every other client refused)."""
    n, cap = 4200, 256
    raise_nofile(2 * n + 1024)
    st = make_stack()
    conns = []
    try:
        for _ in range(n):
            conns.append(connect_from(st.port, "127.0.0.2"))
        # the refused ones are answered (429) or closed, so readable; the held ones stay quiet
        socks = [c.sock for c in conns]
        sembark.wait_until(lambda: len(readable(socks)) >= n - cap, 8, interval=0.2,
                           what="%d of %d connections refused" % (n - cap, n))
        time.sleep(0.3)
        held = n - len(readable(socks))
        assert held == cap, "one address holds %d connections" % held
        status, _ = sembark.http_get_from(st.port, "/healthz", "127.0.0.3", timeout=5)
        assert status == 200
        # the address itself is refused: 429, or closed at once while 64 others are being told
        r = sembark.raw_request(st.port, get_req(st.port), timeout=5, source="127.0.0.2")
        assert r is None or r.status == 429, r
    finally:
        for c in conns:
            c.close()


# ---- max_connections and the cap before the TLS handshake ------------------------

def client_hello():
    """The first flight of a TLS client: a ClientHello, as bytes."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(incoming, outgoing, server_hostname="127.0.0.1")
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return outgoing.read()


def tls_served(port, cafile):
    """Is GET /healthz over TLS answered 200?"""
    ctx = ssl.create_default_context(cafile=cafile)
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            with ctx.wrap_socket(s, server_hostname="127.0.0.1") as t:
                t.sendall(get_req(port))
                r = sembark.RawConn(t).read_response(5)
                return r is not None and r.status == 200
    except OSError:
        return False


@pytest.fixture(scope="module")
def tls_certs(tmp_path_factory):
    if not shutil.which("openssl"):
        pytest.skip("no openssl CLI")
    return make_cert(str(tmp_path_factory.mktemp("tls")))


@pytest.mark.parametrize("limit", ["max_connections", "max_connections_per_address"])
def test_tls_refused_before_handshake(make_stack, pg, sec, tls_certs, limit):
    """With TLS, a connection over [ingress] max_connections (16) or over
    max_connections_per_address (16) is closed at accept: the ClientHello
    it sends gets no ServerHello, not a byte (before: a full handshake, then
    a 503). Others are served once the holders leave."""
    cert, key = tls_certs
    st = make_stack(start=False)
    extra = tls_extra(cert, key, st.port)
    extra["ingress"]["request_timeout"] = "30"  # the holders' handshake may wait
    if limit == "max_connections":
        extra["ingress"].update({"max_connections": "16", "max_connections_per_address": "0"})
        holders = [(src, 2) for src in sources(2, 8)]  # 16 from 8 addresses
    else:
        extra["ingress"].update({"max_connections_per_address": "16"})
        holders = [("127.0.0.2", 16)]
    with open(st.config, "w") as f:
        f.write(sembark.config_text(pg, sec, st.port, st.rundir, extra))
    for n in sembark.DAEMONS:
        st.start(n)
    sembark.wait_until(lambda: tls_served(st.port, cert), 30, interval=0.1,
                       what="/healthz 200 over TLS")
    held = []
    try:
        for src, n in holders:
            held += [connect_from(st.port, src) for _ in range(n)]
        time.sleep(0.5)  # every holder accepted (the loop is idle otherwise)
        with connect_from(st.port, "127.0.0.2") as c:
            c.sendall(client_hello())
            got = b""
            c.settimeout(5)
            try:
                while len(got) < 65536:
                    chunk = c.sock.recv(65536)
                    if not chunk:
                        break
                    got += chunk
            except ConnectionResetError:
                pass
            except socket.timeout:
                raise AssertionError("the connection over %s was held open" % limit) from None
        assert got == b"", "the server answered %d bytes (a handshake?) over %s: %r" % (
            len(got), limit, got[:16])
    finally:
        for c in held:
            c.close()
    sembark.wait_until(lambda: tls_served(st.port, cert), 5, interval=0.1,
                       what="/healthz 200 over TLS after the holders left")
    logs = st.stderr("ingressd")
    assert "reason=%s status=0" % limit in logs, logs[-2000:]  # closed without an answer


# ---- header floods and oversized lines -------------------------------------------

def flood_cases(port):
    host = "Host: 127.0.0.1:%d\r\n" % port
    return {
        "many-headers": ("GET /healthz HTTP/1.1\r\n" + host +
                         "".join("X-H%d: v\r\n" % i for i in range(300)) + "\r\n").encode(),
        "huge-header-line": ("GET /healthz HTTP/1.1\r\n" + host + "X-Big: " + "a" * 70000 +
                             "\r\n\r\n").encode(),
        "many-small-headers-over-bytes": ("GET /healthz HTTP/1.1\r\n" + host +
                                          "".join("X-%d: %s\r\n" % (i, "v" * 500)
                                                  for i in range(40)) + "\r\n").encode(),
        "huge-request-line": ("GET /" + "a" * 70000 + " HTTP/1.1\r\n" + host + "\r\n").encode(),
        "request-line-without-end": ("GET /" + "a" * 70000).encode(),
        "huge-header-name": ("GET /healthz HTTP/1.1\r\n" + host + "X" * 20000 + ": v\r\n\r\n").encode(),
    }


FLOOD_STATUS = {"many-headers": 431, "huge-header-line": 431, "many-small-headers-over-bytes": 431,
                "huge-request-line": 431, "request-line-without-end": 431, "huge-header-name": 431}


def send_until_answered(conn, data, chunk=1024):
    """Send data in chunks, stopping once the server answers; the bytes sent."""
    sent = 0
    while sent < len(data):
        try:
            conn.sock.sendall(data[sent:sent + chunk])
        except (BrokenPipeError, ConnectionResetError):
            break
        sent += chunk
        if readable([conn.sock]):
            break
    return sent


@pytest.mark.parametrize("case", sorted(FLOOD_STATUS))
def test_header_flood_answered_and_closed(shared_stack, case):
    s = shared_stack
    data = flood_cases(s.port)[case]
    with connect_from(s.port, "127.0.0.1") as c:
        send_until_answered(c, data)
        r = c.read_response(10)
        assert r is not None, "closed without an answer"
        assert_json_error(r, status=FLOOD_STATUS[case])
        assert r.headers.get("connection") == "close", r.headers
        assert closed_soon(c, 15), "the connection stayed open after the %d" % r.status


def test_endless_header_stream_cut_at_limit(shared_stack):
    """A head that never ends is answered 431 once it passes [ingress]
    max_header_bytes (16 KiB), not after the client stops: the answer comes
    while the client is still sending, and the connection is closed."""
    s = shared_stack
    with connect_from(s.port, "127.0.0.1") as c:
        c.sendall(("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n" % s.port).encode())
        line = b"X-Endless: " + b"v" * 100 + b"\r\n"
        sent, answered = 0, False
        deadline = time.monotonic() + 10
        while sent < (1 << 20) and time.monotonic() < deadline:
            try:
                c.sock.sendall(line)
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += len(line)
            if readable([c.sock]):
                answered = True
                break
        r = c.read_response(10)
        assert r is not None, "closed without an answer after %d bytes" % sent
        assert_json_error(r, status=431)
        assert answered or sent < (1 << 20), "no answer while sending %d bytes" % sent
        assert sent < 256 * 1024, "answered only after %d bytes" % sent
        assert closed_soon(c, 15)


# ---- slowloris -------------------------------------------------------------------

SLOW_HEAD = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "


def open_slowloris(port, n, srcs):
    conns = []
    for i in range(n):
        c = connect_from(port, srcs[i % len(srcs)])
        conns.append(c)
        c.sendall(SLOW_HEAD[:1])
    return conns


def trickle(conns, stop, interval=0.2):
    """A byte at a time to each of conns, every interval, until stop is set (or 120 s)."""
    sent = [1] * len(conns)
    deadline = time.monotonic() + 120
    while not stop.is_set() and time.monotonic() < deadline:
        for i, c in enumerate(conns):
            b = SLOW_HEAD[sent[i]:sent[i] + 1] or b"s"
            try:
                c.sock.send(b)
            except OSError:
                continue  # closed by the server: the timeout test counts those
            sent[i] += 1
        stop.wait(interval)


def test_slowloris_closed_by_request_timeout(make_stack):
    """[ingress] request_timeout (2 s here) bounds a head trickled a byte at
    a time: every slowloris connection is answered 408 (or closed) and
    closed, within a few seconds, while a normal client is served."""
    st = make_stack(env={"SEMBARK_INGRESS_REQUEST_TIMEOUT": "2"})
    conns = open_slowloris(st.port, 50, ["127.0.0.2"])
    stop = threading.Event()
    t = threading.Thread(target=trickle, args=(conns, stop), daemon=True)
    t0 = time.monotonic()
    t.start()
    try:
        status, _, dt = st.health(timeout=5)
        assert status == 200 and dt < 1, (status, dt)
        for c in conns:
            remaining = max(0.5, 10 - (time.monotonic() - t0))
            c.settimeout(remaining)
            try:
                r = c.read_response(remaining)
            except socket.timeout:
                raise AssertionError("a slowloris connection was still open after %.1fs "
                                     "(request_timeout=2)" % (time.monotonic() - t0)) from None
            assert r is None or r.status == 408, r
            assert closed_soon(c, max(0.5, 12 - (time.monotonic() - t0)))
        took = time.monotonic() - t0
    finally:
        stop.set()
        t.join(5)
        for c in conns:
            c.close()
    assert took < 10, "the slowloris connections were closed only after %.1fs" % took


# ---- everything at once ----------------------------------------------------------

def hold_idle(port, n, srcs, path="/.well-known/security.txt"):
    """n keep-alive connections, PER_SOURCE from each of srcs, each after one answered request."""
    conns = []
    batch = []
    for i in range(n):
        c = connect_from(port, srcs[i // PER_SOURCE])
        conns.append(c)
        batch.append(c)
        c.sendall(get_req(port, path))
        if len(batch) == 200 or i == n - 1:
            for b in batch:
                r = b.read_response(30)
                assert r is not None and r.status in (200, 404), r
                assert r.headers.get("connection") != "close", r.headers
            batch = []
    return conns


def test_normal_client_served_beside_slowloris_and_idle(make_stack):
    """200 slowloris connections (a byte every 0.2 s) and 5,000 idle
    keep-alive connections held, from other addresses; meanwhile a normal
    client on 127.0.0.1 gets every /healthz answered 200, none in more
    than 1 s. Its p50/p99 are printed (the 50 ms goal is a benchmark row)."""
    n_idle_src = (HOLD_IDLE + PER_SOURCE - 1) // PER_SOURCE
    raise_nofile(2 * (HOLD_IDLE + HOLD_SLOW) + 2048)
    st = make_stack(env={"SEMBARK_INGRESS_MAX_CONNECTIONS": "8192",
                         "SEMBARK_INGRESS_REQUEST_TIMEOUT": "60",
                         "SEMBARK_INGRESS_IDLE_TIMEOUT": "120"})
    slow, idle = [], []
    stop = threading.Event()
    t = threading.Thread(target=lambda: trickle(slow, stop), daemon=True)
    t0 = time.monotonic()
    try:
        slow += open_slowloris(st.port, HOLD_SLOW, sources(2, 1))
        t.start()
        idle += hold_idle(st.port, HOLD_IDLE, sources(10, n_idle_src))
        setup = time.monotonic() - t0
        times = []
        for _ in range(NORMAL_REQUESTS):
            status, body, dt = st.health(timeout=5)
            assert status == 200 and body and body.get("status") == "ok", (status, body)
            times.append(dt)
        # the held connections are all still open: nothing was shed to serve the client
        assert readable([c.sock for c in idle]) == [], "idle connections were closed"
    finally:
        stop.set()
        t.join(5)
        for c in slow + idle:
            c.close()
    p50, p99 = percentile(times, 50) * 1000, percentile(times, 99) * 1000
    print("\nnormal client beside %d slowloris + %d idle connections (held in %.1fs): "
          "/healthz p50 %.1f ms, p99 %.1f ms, max %.1f ms over %d requests" %
          (HOLD_SLOW, HOLD_IDLE, setup, p50, p99, max(times) * 1000, len(times)))
    assert max(times) < 1, "a normal request waited %.2fs" % max(times)
