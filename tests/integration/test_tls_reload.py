"""test_tls_reload.py - certificate renewal without downtime: SIGHUP
(`systemctl reload`) makes sembark-ingressd read [ingress] tls_cert_file
and the key again. New connections get the new certificate while a
connection opened before keeps the old one and goes on answering; a bad
new pair (key not matching, garbage, a missing file, an expired
certificate) is refused with one "tls reload failed" line and the old
certificate stays in use; a key from the credential tls-key is read
again too, and a mismatch then says the credential is read at start only;
many reloads under light load leak no file descriptor. SIGHUP never stops
a daemon: the others (and ingressd without TLS) log it and go on.

Certificates are self-signed ones made with the openssl CLI, each with
its own key, subject and serial; the client compares SHA-256 fingerprints
of what the server sent (no verification needed for that)."""

import hashlib
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import threading
import time

import pytest

import sembark

IDLE_TIMEOUT = 60  # the connection held open across a reload must not idle out


def run_openssl(argv, stdin=None):
    subprocess.run(["openssl"] + argv, input=stdin, check=True, capture_output=True, timeout=60)


def make_pair(d, name, days=2, key=None):
    """(cert, key) for CN=<name> in d; a new EC key unless key is given;
    days=-1 makes one that expired yesterday."""
    cert = os.path.join(d, name + ".crt")
    if key is None:
        key = os.path.join(d, name + ".key")
        run_openssl(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
                     "-out", key])
        os.chmod(key, 0o600)
    csr = os.path.join(d, name + ".csr")
    run_openssl(["req", "-new", "-key", key, "-subj", "/CN=" + name, "-out", csr])
    run_openssl(["x509", "-req", "-in", csr, "-signkey", key, "-days", str(days),
                 "-set_serial", str(int.from_bytes(os.urandom(8), "big")), "-out", cert])
    return cert, key


def fingerprint_of_file(cert):
    with open(cert) as f:
        return fingerprint(ssl.PEM_cert_to_DER_cert(f.read()))


def fingerprint(der):
    """As ingressd logs it (and `openssl x509 -fingerprint -sha256` prints it)."""
    return ":".join("%02X" % b for b in hashlib.sha256(der).digest())


def install(src, dst, mode):
    """Replace dst by a copy of src at once (rename), as the deploy hook does."""
    tmp = dst + ".new"
    shutil.copyfile(src, tmp)
    os.chmod(tmp, mode)
    os.replace(tmp, dst)


def write(dst, data, mode=0o600):
    tmp = dst + ".new"
    with open(tmp, "wb") as f:
        f.write(data)
    os.chmod(tmp, mode)
    os.replace(tmp, dst)


class Live:
    """Where ingressd reads its pair (live.crt, live.key) and the pairs to
    put there: a and b (each its own key), ab (a's key, a new certificate),
    expired (b's key)."""

    def __init__(self, d):
        self.dir = d
        self.cert = os.path.join(d, "live.crt")
        self.key = os.path.join(d, "live.key")
        self.a = make_pair(d, "sembark-reload-a")
        self.b = make_pair(d, "sembark-reload-b")
        self.ab = make_pair(d, "sembark-reload-a2", key=self.a[1])
        self.expired = make_pair(d, "sembark-reload-old", days=-1, key=self.b[1])
        self.put(self.a)

    def put(self, pair):
        install(pair[0], self.cert, 0o644)
        install(pair[1], self.key, 0o600)


@pytest.fixture(scope="module")
def have_openssl():
    if not shutil.which("openssl"):
        pytest.skip("no openssl CLI")


def tls_stack(factory, live, daemon_env=None, key_file=True):
    """A stack whose ingressd serves live's pair over TLS (key_file=False:
    no [ingress] tls_key_file, the key comes from the credential)."""
    st = factory(start=False, daemon_env=daemon_env)
    extra = {"ingress": {"tls_cert_file": live.cert,
                         "tls_key_file": live.key if key_file else None,
                         "public_origin": "https://127.0.0.1:%d" % st.port,
                         "idle_timeout": str(IDLE_TIMEOUT)}}
    with open(st.config, "w") as f:
        f.write(sembark.config_text(st.pg, st.sec, st.port, st.rundir, extra))
    for n in sembark.DAEMONS:
        st.start(n)
    sembark.wait_until(lambda: healthz_ok(st.port), 30, interval=0.1, what="/healthz over TLS")
    return st


def client_ctx():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE  # self-signed: what matters is which one was sent
    return ctx


def connect(port):
    """A TLS connection (RawConn) and the fingerprint of the certificate it got."""
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    t = client_ctx().wrap_socket(s, server_hostname="sembark.test")
    return sembark.RawConn(t), fingerprint(t.getpeercert(binary_form=True))


def get(conn, path="/healthz"):
    conn.sendall(("GET %s HTTP/1.1\r\nHost: sembark.test\r\n\r\n" % path).encode())
    return conn.read_response()


def served(port):
    """The fingerprint a new connection gets, after a full request on it."""
    conn, fp = connect(port)
    with conn:
        r = get(conn)
        assert r is not None and r.status == 200, r
    return fp


def healthz_ok(port):
    try:
        served(port)
        return True
    except (OSError, AssertionError):
        return False


def log_lines(st, msg):
    return [l for l in st.stderr("ingressd").splitlines() if 'msg="%s' % msg in l]


def reload(st, msg, before):
    """SIGHUP ingressd, wait for line number before+1 with msg; return it."""
    st.send_signal("ingressd", signal.SIGHUP)
    sembark.wait_until(lambda: len(log_lines(st, msg)) > before, 10, interval=0.02,
                       what="%r in ingressd's log" % msg)
    lines = log_lines(st, msg)
    assert len(lines) == before + 1, lines
    return dict(sembark.parse_logfmt(lines[-1]))


def reload_ok(st):
    return reload(st, "tls certificate reloaded", len(log_lines(st, "tls certificate reloaded")))


def reload_refused(st):
    return reload(st, "tls reload failed", len(log_lines(st, "tls reload failed")))


def assert_no_key_material(st, live):
    text = st.stderr("ingressd") + st.stdout("ingressd")
    for key in (live.a[1], live.b[1]):
        with open(key) as f:
            body = [l for l in f.read().splitlines() if l and not l.startswith("-----")]
        for line in body:
            assert line not in text


def test_new_connections_get_new_cert_open_one_keeps_old(have_openssl, make_stack, tmp_path):
    live = Live(str(tmp_path))
    fp_a, fp_b = fingerprint_of_file(live.a[0]), fingerprint_of_file(live.b[0])
    st = tls_stack(make_stack, live)
    loaded = dict(sembark.parse_logfmt(log_lines(st, "tls certificate loaded")[-1]))
    assert loaded["sha256"] == fp_a and loaded["subject"] == "CN=sembark-reload-a", loaded

    old, got = connect(st.port)
    with old:
        assert got == fp_a
        assert get(old).status == 200
        live.put(live.b)
        rec = reload_ok(st)
        assert rec["sha256"] == fp_b, rec
        assert rec["subject"] == "CN=sembark-reload-b", rec
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", rec["not_after"]), rec
        assert rec["key_source"] == "file", rec
        assert served(st.port) == fp_b
        # the connection opened before the reload answers again, on its certificate
        r = get(old)
        assert r is not None and r.status == 200, r
        assert fingerprint(old.sock.getpeercert(binary_form=True)) == fp_a
    assert sembark.find_ip_addresses("\n".join(log_lines(st, "tls certificate"))) == []
    assert st.daemons["ingressd"].running()


BAD_PAIRS = {
    # name: (what to put in place of the good pair, start of the reason, the path it names)
    "key_mismatch": (lambda lv: lv.put((lv.b[0], lv.a[1])), "The TLS key does not match", "key"),
    "garbage_cert": (lambda lv: write(lv.cert, b"-----BEGIN CERTIFICATE-----\nnot base64\n", 0o644),
                     "The TLS certificate chain is not PEM", "cert"),
    "garbage_key": (lambda lv: write(lv.key, b"this is not a key\n"),
                    "The TLS key is not a PEM private key", "key"),
    "missing_cert": (lambda lv: os.unlink(lv.cert), "Cannot read the TLS certificate", "cert"),
    "missing_key": (lambda lv: os.unlink(lv.key), "No TLS key", "key"),
    "key_readable_by_others": (lambda lv: os.chmod(lv.key, 0o644), "The TLS key file is readable",
                               "key"),
    "expired": (lambda lv: lv.put(lv.expired), "The TLS certificate has expired", "cert"),
}


@pytest.fixture(scope="module")
def bad_pair_stack(have_openssl, make_shared_stack, tmp_path_factory):
    live = Live(str(tmp_path_factory.mktemp("tls-reload-bad")))
    return tls_stack(make_shared_stack, live), live


@pytest.mark.parametrize("case", sorted(BAD_PAIRS))
def test_bad_pair_refused_old_cert_stays(bad_pair_stack, case):
    st, live = bad_pair_stack
    fp_a = fingerprint_of_file(live.a[0])
    live.put(live.a)  # the previous case ended on another pair
    assert reload_ok(st)["sha256"] == fp_a
    assert served(st.port) == fp_a
    spoil, reason, path = BAD_PAIRS[case]
    spoil(live)
    rec = reload_refused(st)
    assert rec["level"] == "error", rec
    assert rec["msg"] == "tls reload failed, the current certificate stays in use", rec
    assert rec["reason"].startswith(reason), rec
    assert rec["path"] == {"cert": live.cert, "key": live.key}[path], rec
    assert served(st.port) == fp_a
    assert st.daemons["ingressd"].running()
    assert_no_key_material(st, live)
    # a good pair afterwards is taken again
    live.put(live.ab)
    assert reload_ok(st)["sha256"] == fingerprint_of_file(live.ab[0])
    assert served(st.port) == fingerprint_of_file(live.ab[0])


def test_key_from_credential(have_openssl, make_stack, tmp_path):
    """The credential is read again on SIGHUP (certbot --reuse-key: same key,
    new certificate, works); a certificate with a new key does not match the
    credential's (systemd copies credentials at start only), and the reason
    says to restart."""
    live = Live(str(tmp_path))
    creds = tmp_path / "creds"
    creds.mkdir(mode=0o700)
    shutil.copyfile(live.a[1], creds / "tls-key")
    os.chmod(creds / "tls-key", 0o400)
    st = tls_stack(make_stack, live, daemon_env={"ingressd": {"CREDENTIALS_DIRECTORY": str(creds)}},
                   key_file=False)
    assert served(st.port) == fingerprint_of_file(live.a[0])
    live.put(live.ab)  # same key, new certificate
    rec = reload_ok(st)
    assert rec["key_source"] == "credential", rec
    assert served(st.port) == fingerprint_of_file(live.ab[0])
    live.put(live.b)   # a new key, which only reaches the file, not the credential
    rec = reload_refused(st)
    assert "credential tls-key, read at start only: restart" in rec["reason"], rec
    assert served(st.port) == fingerprint_of_file(live.ab[0])


def fd_count(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


class Load:
    """A light load: one client making new TLS connections with a request
    each, until stopped; counts answers and failures."""

    def __init__(self, port):
        self.port, self.ok, self.errors = port, 0, []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        deadline = time.monotonic() + 120
        while not self.stop.is_set() and time.monotonic() < deadline:
            try:
                served(self.port)
                self.ok += 1
            except (OSError, AssertionError) as e:
                self.errors.append(repr(e))
            time.sleep(0.02)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *a):
        self.stop.set()
        self.thread.join(15)


RELOADS = 40


def test_many_reloads_under_load_do_not_leak(have_openssl, make_stack, tmp_path):
    live = Live(str(tmp_path))
    st = tls_stack(make_stack, live)
    pid = st.pid("ingressd")
    served(st.port)
    fds_before = fd_count(pid)
    pairs = [live.b, live.a]
    with Load(st.port) as load:
        for i in range(RELOADS):
            fp = fingerprint_of_file(pairs[i % 2][0])
            live.put(pairs[i % 2])
            assert reload_ok(st)["sha256"] == fp
            assert served(st.port) == fp
    assert load.errors == [], load.errors[:5]
    assert load.ok >= RELOADS // 4, load.ok
    assert served(st.port) == fingerprint_of_file(pairs[(RELOADS - 1) % 2][0])
    # connections close asynchronously: the count settles back
    sembark.wait_until(lambda: fd_count(pid) <= fds_before, 10, interval=0.1,
                       what="ingressd's fd count back to %d (now %d)" % (fds_before, fd_count(pid)))
    assert log_lines(st, "tls reload failed") == []


@pytest.mark.parametrize("name", sembark.DAEMONS)
def test_sighup_stops_no_daemon(stack, name):
    """A plain-HTTP stack: SIGHUP is logged and ignored by every daemon
    (its default action would end the process, and systemd's
    Restart=on-failure counts SIGHUP as a clean exit: it would stay down)."""
    stack.send_signal(name, signal.SIGHUP)
    sembark.wait_until(lambda: "SIGHUP: nothing to reload" in stack.stderr(name), 10,
                       what="sembark-%s to log the SIGHUP" % name)
    assert stack.daemons[name].running()
    sembark.wait_until(lambda: stack.health()[0] == 200, 10, what="/healthz 200")


# ---- scripts/certbot-deploy-hook.sh ------------------------------------------------

HOOK = os.path.join(sembark.REPO_ROOT, "scripts", "certbot-deploy-hook.sh")


def lineage(d, name, pair):
    """A certbot lineage directory (fullchain.pem, privkey.pem) holding pair."""
    path = os.path.join(d, name)
    os.makedirs(path)
    shutil.copyfile(pair[0], os.path.join(path, "fullchain.pem"))
    shutil.copyfile(pair[1], os.path.join(path, "privkey.pem"))
    return path


def run_hook(lineage_dir, tls_dir, credstore):
    env = dict(os.environ, RENEWED_LINEAGE=lineage_dir, SEMBARK_TLS_DIR=tls_dir,
               SEMBARK_CREDSTORE=credstore, SEMBARK_TLS_KEY_OWNER=pwd_name())
    return subprocess.run(["bash", HOOK, "--install-only"], env=env, capture_output=True,
                          text=True, timeout=60)


def pwd_name():
    import pwd
    return pwd.getpwuid(os.geteuid()).pw_name


def snapshot(d):
    return {n: open(os.path.join(d, n), "rb").read() for n in sorted(os.listdir(d))}


def test_deploy_hook_installs_what_ingressd_reloads(have_openssl, make_stack, tmp_path):
    """The hook installs a renewed pair where ingressd reads it, with the
    modes ingressd wants (the key 0600 to its owner), checks the pair
    first, and a SIGHUP then serves it; a bad pair (key not matching,
    expired) leaves the installed files as they were."""
    live = Live(str(tmp_path))
    tls_dir, nocreds = str(tmp_path / "installed"), str(tmp_path / "no-credstore")
    r = run_hook(lineage(str(tmp_path), "a", live.a), tls_dir, nocreds)
    assert r.returncode == 0, r.stderr
    assert "needs a reload" in r.stderr, r.stderr
    cert, key = os.path.join(tls_dir, "fullchain.pem"), os.path.join(tls_dir, "privkey.pem")
    assert os.stat(cert).st_mode & 0o777 == 0o644
    assert os.stat(key).st_mode & 0o777 == 0o600
    assert os.stat(key).st_uid == os.geteuid()
    assert sorted(os.listdir(tls_dir)) == ["fullchain.pem", "privkey.pem"]  # no temporary left

    live.cert, live.key = cert, key  # ingressd reads what the hook installed
    st = tls_stack(make_stack, live)
    assert served(st.port) == fingerprint_of_file(live.a[0])

    r = run_hook(lineage(str(tmp_path), "b", live.b), tls_dir, nocreds)
    assert r.returncode == 0, r.stderr
    assert reload_ok(st)["sha256"] == fingerprint_of_file(live.b[0])
    assert served(st.port) == fingerprint_of_file(live.b[0])

    before = snapshot(tls_dir)
    for name, pair, why in (("mismatch", (live.a[0], live.b[1]), "does not match"),
                            ("expired", live.expired, "has expired")):
        r = run_hook(lineage(str(tmp_path), name, pair), tls_dir, nocreds)
        assert r.returncode == 1 and why in r.stderr, (name, r.stderr)
        assert snapshot(tls_dir) == before, name
    assert served(st.port) == fingerprint_of_file(live.b[0])


def test_deploy_hook_with_key_credential(have_openssl, tmp_path):
    """With the key in the credential store: the same key (certbot
    --reuse-key) leaves the credential alone and needs a reload; a new key
    replaces the credential (0600 root) and needs a restart."""
    if os.geteuid() != 0:
        pytest.skip("the credential is made root's: needs root")
    live = Live(str(tmp_path))
    tls_dir, creds = str(tmp_path / "installed"), str(tmp_path / "credstore")
    os.mkdir(creds, 0o700)
    credential = os.path.join(creds, "sembark-tls-key")
    shutil.copyfile(live.a[1], credential)
    os.chmod(credential, 0o600)
    r = run_hook(lineage(str(tmp_path), "ab", live.ab), tls_dir, creds)
    assert r.returncode == 0, r.stderr
    assert "needs a reload" in r.stderr, r.stderr
    assert sorted(os.listdir(tls_dir)) == ["fullchain.pem"]  # the key is the credential
    r = run_hook(lineage(str(tmp_path), "b", live.b), tls_dir, creds)
    assert r.returncode == 0, r.stderr
    assert "needs a restart" in r.stderr, r.stderr
    assert open(credential, "rb").read() == open(live.b[1], "rb").read()
    st = os.stat(credential)
    assert (st.st_mode & 0o777, st.st_uid) == (0o600, 0)
