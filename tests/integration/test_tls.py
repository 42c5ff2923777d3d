"""test_tls.py - TLS termination in sembark-ingressd ([ingress]
tls_cert_file / tls_key_file): TLS 1.3 and 1.2 with ECDHE + AEAD only,
Strict-Transport-Security on every answer, older protocols, weak suites and
plain HTTP refused, no session resumed and no ticket issued (TLS 1.2, 1.3), a silent handshake closed after [ingress]
request_timeout, a bad key path fatal at start, and Secure/__Host- cookies
with an https public origin. The harness speaks plain HTTP, so the test
has its own small https client on Python's ssl module; the certificate
is a fresh self-signed one made with the openssl CLI."""

import http.client
import os
import shutil
import socket
import ssl
import subprocess
import time
import warnings

import pytest

import sembark

HSTS = "max-age=31536000; includeSubDomains"
REQUEST_TIMEOUT = 2


def make_cert(d):
    cert, key = os.path.join(d, "tls-cert.pem"), os.path.join(d, "tls-key.pem")
    old = os.umask(0o077)
    try:
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", cert,
                        "-days", "2", "-subj", "/CN=127.0.0.1",
                        "-addext", "subjectAltName=IP:127.0.0.1"],
                       check=True, capture_output=True, timeout=60)
    finally:
        os.umask(old)
    os.chmod(key, 0o600)
    return cert, key


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    if not shutil.which("openssl"):
        pytest.skip("no openssl CLI")
    return make_cert(str(tmp_path_factory.mktemp("tls")))


def tls_extra(cert, key, port):
    return {"ingress": {"tls_cert_file": cert, "tls_key_file": key,
                        "public_origin": "https://127.0.0.1:%d" % port,
                        "request_timeout": str(REQUEST_TIMEOUT)}}


@pytest.fixture(scope="module")
def tls(make_shared_stack, pg, sec, certs):
    st = make_shared_stack(start=False)
    cert, key = certs
    st._tls_cert = cert
    with open(st.config, "w") as f:  # the https origin needs the stack's port
        f.write(sembark.config_text(pg, sec, st.port, st.rundir, tls_extra(cert, key, st.port)))
    for n in sembark.DAEMONS:
        st.start(n)

    def healthy():
        try:
            return get(st, "/healthz")[0] == 200
        except OSError:
            return False
    sembark.wait_until(healthy, 30, interval=0.1, what="/healthz 200 over TLS")
    return st


def client_ctx(cafile, minv=None, maxv=None, ciphers=None):
    ctx = ssl.create_default_context(cafile=cafile)
    if ciphers:
        ctx.set_ciphers(ciphers)
    if minv:
        ctx.minimum_version = minv
    if maxv:
        ctx.maximum_version = maxv
    return ctx


def get(st, path, ctx=None):
    """(status, headers as a list of pairs, body, TLS version) of GET path over TLS."""
    ctx = ctx or client_ctx(st_cert(st))
    c = http.client.HTTPSConnection("127.0.0.1", st.port, context=ctx, timeout=10)
    try:
        c.request("GET", path)
        r = c.getresponse()
        body = r.read()
        return r.status, r.getheaders(), body, c.sock.version()
    finally:
        c.close()


def st_cert(st):
    return st._tls_cert


def hdr(headers, name):
    return [v for k, v in headers if k.lower() == name.lower()]


def handshake(port, ctx):
    """Try a TLS handshake; None when it worked, else the SSLError."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        try:
            with ctx.wrap_socket(s, server_hostname="127.0.0.1"):
                return None
        except ssl.SSLError as e:
            return e


@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1_3, ssl.TLSVersion.TLSv1_2])
def test_healthz_over_tls(tls, certs, version):
    ctx = client_ctx(certs[0], minv=version, maxv=version)
    status, headers, body, got = get(tls, "/healthz", ctx)
    assert status == 200, body
    assert got == {"TLSv1_3": "TLSv1.3", "TLSv1_2": "TLSv1.2"}[version.name]
    assert hdr(headers, "Strict-Transport-Security") == [HSTS]
    # errors carry it as well
    status, headers, _, _ = get(tls, "/nope", ctx)
    assert status == 404
    assert hdr(headers, "Strict-Transport-Security") == [HSTS]


def test_tls12_suite_is_ecdhe_aead(tls, certs):
    ctx = client_ctx(certs[0], maxv=ssl.TLSVersion.TLSv1_2)
    with socket.create_connection(("127.0.0.1", tls.port), timeout=10) as s:
        with ctx.wrap_socket(s, server_hostname="127.0.0.1") as t:
            name = t.cipher()[0]
    assert name.startswith("ECDHE-") and ("GCM" in name or "CHACHA20" in name), name


def test_tls11_refused(tls, certs):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
            ctx.minimum_version = ssl.TLSVersion.TLSv1_1
            ctx.maximum_version = ssl.TLSVersion.TLSv1_1
        err = handshake(tls.port, ctx)
    except (ssl.SSLError, ValueError) as e:
        err = e
    if err is not None and "ALERT" not in str(err):
        # this client could not even offer TLS 1.1: try the openssl CLI
        out = s_client_tls11(tls.port)
        assert out is not None, "a TLS 1.1 handshake succeeded"
        return
    assert err is not None, "a TLS 1.1 handshake succeeded"
    assert "PROTOCOL_VERSION" in str(err), err


def s_client_tls11(port):
    """openssl s_client -tls1_1: None when the handshake worked, else its output."""
    if not shutil.which("openssl"):
        pytest.skip("this client cannot offer TLS 1.1")
    r = subprocess.run(["openssl", "s_client", "-connect", "127.0.0.1:%d" % port, "-tls1_1",
                        "-cipher", "DEFAULT:@SECLEVEL=0"],
                       input=b"", capture_output=True, timeout=30)
    out = (r.stdout + r.stderr).decode("utf-8", "replace")
    if "no protocols available" in out:
        pytest.skip("the local OpenSSL cannot offer TLS 1.1")
    if r.returncode == 0 and "Cipher is (NONE)" not in out and "New, " in out:
        return None
    return out


@pytest.mark.parametrize("cipher", ["AES128-SHA256", "AES128-SHA", "AES256-GCM-SHA384",
                                    "ECDHE-ECDSA-AES128-SHA256"])
def test_weak_tls12_suites_refused(tls, certs, cipher):
    ctx = client_ctx(certs[0], maxv=ssl.TLSVersion.TLSv1_2)
    try:
        ctx.set_ciphers(cipher + ":@SECLEVEL=0")
    except ssl.SSLError:
        pytest.skip("the local OpenSSL lacks %s" % cipher)
    err = handshake(tls.port, ctx)
    assert err is not None, "a TLS 1.2 handshake with %s succeeded" % cipher
    assert "ALERT" in str(err), err  # refused by the server, not by this client


def test_plain_http_gets_no_http_answer(tls):
    with socket.create_connection(("127.0.0.1", tls.port), timeout=10) as s:
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        data = b""
        try:
            while len(data) < 65536:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
        except (ConnectionResetError, socket.timeout):
            pass
    assert b"HTTP/" not in data, data[:200]
    # the server is still fine
    assert get(tls, "/healthz")[0] == 200


def test_silent_handshake_times_out(tls):
    t0 = time.monotonic()
    with socket.create_connection(("127.0.0.1", tls.port), timeout=REQUEST_TIMEOUT + 8) as s:
        try:
            data = s.recv(100)
        except ConnectionResetError:
            data = b""
    dt = time.monotonic() - t0
    assert data == b""
    assert REQUEST_TIMEOUT - 0.5 <= dt <= REQUEST_TIMEOUT + 3, dt
    assert get(tls, "/healthz")[0] == 200


def test_csrf_cookies_secure_host(tls):
    status, headers, _, _ = get(tls, "/api/csrf")
    assert status == 204
    cookies = hdr(headers, "Set-Cookie")
    names = {c.split("=", 1)[0] for c in cookies}
    assert names == {"XSRF-TOKEN", "__Host-sembark_csrf"}, cookies
    for c in cookies:
        assert "; Secure" in c, c
    assert hdr(headers, "Strict-Transport-Security") == [HSTS]


def run_ingressd(pg, sec, base_dir, extra, name):
    d = os.path.join(base_dir, name)
    os.makedirs(os.path.join(d, "run"), exist_ok=True)
    cfg = os.path.join(d, "sembark.conf")
    with open(cfg, "w") as f:
        f.write(sembark.config_text(pg, sec, sembark.free_port(), os.path.join(d, "run"), extra))
    return subprocess.run(sembark.command("ingressd", "--config", cfg), stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=30 * sembark.SLOW, env=sembark.clean_env(),
                          cwd=d)


def test_bad_key_path_fatal(pg, sec, base_dir, migrated, certs):
    missing = os.path.join(base_dir, "no-such-tls-key.pem")
    r = run_ingressd(pg, sec, base_dir, tls_extra(certs[0], missing, 1), "tls-badkey")
    assert r.returncode != 0
    assert missing in r.stderr, r.stderr
    assert "TLS key" in r.stderr, r.stderr


def test_bad_cert_and_mismatched_key_fatal(pg, sec, base_dir, migrated, certs, tmp_path):
    cert, key = certs
    r = run_ingressd(pg, sec, base_dir, tls_extra(key, key, 1), "tls-badcert")
    assert r.returncode != 0
    assert key in r.stderr and "certificate" in r.stderr, r.stderr
    cert2, key2 = make_cert(str(tmp_path))
    r = run_ingressd(pg, sec, base_dir, tls_extra(cert, key2, 1), "tls-mismatch")
    assert r.returncode != 0
    assert "does not match" in r.stderr, r.stderr
    # no key material in what it printed
    with open(key2) as f:
        body = [l for l in f.read().splitlines() if l and not l.startswith("-----")]
    for line in body:
        assert line not in r.stderr and line not in r.stdout


def test_keepalive_and_bad_request_over_tls(tls, certs):
    ctx = client_ctx(certs[0])
    with socket.create_connection(("127.0.0.1", tls.port), timeout=10) as s:
        with ctx.wrap_socket(s, server_hostname="127.0.0.1") as t:
            # two requests on one connection, then one that is refused 400
            t.sendall(b"GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n"
                      b"GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n"
                      b"GET /healthz HTTP/1.1\r\n\r\n")
            data = b""
            while True:
                try:
                    chunk = t.recv(65536)
                except (ssl.SSLError, ConnectionResetError):
                    break
                if not chunk:
                    break
                data += chunk
    assert data.count(b"HTTP/1.1 200 OK\r\n") == 2, data[:400]
    assert b"HTTP/1.1 400 Bad Request\r\n" in data, data[-400:]
    assert data.count(b"Strict-Transport-Security: " + HSTS.encode()) == 3


def fetch_with_session(port, ctx, session=None):
    """GET /healthz on one connection, offering session; (the session the
    server left this client, whether the handshake resumed one). The answer
    is read in full so that a TLS 1.3 NewSessionTicket, sent after the
    handshake, has arrived before the session is taken."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        with ctx.wrap_socket(s, server_hostname="127.0.0.1", session=session) as t:
            t.sendall(b"GET /healthz HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
            data = b""
            while len(data) < 65536:
                chunk = t.recv(65536)
                if not chunk:
                    break
                data += chunk
            assert data.startswith(b"HTTP/1.1 200 "), data[:200]
            return t.session, t.session_reused


@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1_3, ssl.TLSVersion.TLSv1_2])
def test_no_session_resumption(tls, certs, version):
    """No tickets and no session cache: a client that saved its session and
    offers it again gets a full handshake, in either protocol version."""
    ctx = client_ctx(certs[0], minv=version, maxv=version)
    session, reused = fetch_with_session(tls.port, ctx)
    assert not reused
    if session is not None:
        assert not session.has_ticket, "the server issued a session ticket"
        assert session.ticket_lifetime_hint == 0, session.ticket_lifetime_hint
    _, reused = fetch_with_session(tls.port, ctx, session)
    assert not reused, "a saved session was resumed"


def test_no_session_resumption_s_client(tls, tmp_path):
    """The same with the openssl CLI (-sess_out, then -sess_in), for TLS 1.2,
    where a ticket used to make it say "Reused"."""
    sess = str(tmp_path / "tls12.sess")
    base = ["openssl", "s_client", "-connect", "127.0.0.1:%d" % tls.port, "-tls1_2"]
    first = s_client(base + ["-sess_out", sess])
    assert "New, " in first, first
    assert "TLS session ticket lifetime hint" not in first, first
    if os.path.exists(sess):
        again = s_client(base + ["-sess_in", sess])
        assert "New, " in again and "Reused, " not in again, again


def s_client(argv):
    r = subprocess.run(argv, input=b"", capture_output=True, timeout=30)
    return (r.stdout + r.stderr).decode("utf-8", "replace")
