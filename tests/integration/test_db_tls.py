"""test_db_tls.py - the daemons reach PostgreSQL over TCP with TLS and
check the server: [database] sslmode = verify-full and sslrootcert = a CA
made here with the openssl CLI. A second private cluster of this module's
own listens on 127.0.0.1 (a free port) with ssl = on and a certificate for
"localhost" signed by that CA; its pg_hba.conf accepts TCP only as
hostssl. sembarkctl migrate and the four daemons connect as host =
localhost: /healthz is green and pg_stat_ssl shows each daemon's role on
TLS. verify-full refuses a server whose certificate does not name the host
(host = 127.0.0.1; verify-ca takes it) and a CA that did not sign it."""

import os
import shutil
import subprocess

import pytest

import sembark


def openssl(argv):
    subprocess.run(["openssl"] + argv, check=True, capture_output=True, timeout=60)


def make_ca(d, name):
    cert, key = os.path.join(d, name + ".crt"), os.path.join(d, name + ".key")
    openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
             "-nodes", "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=" + name,
             "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign"])
    return cert, key


def make_server_cert(d, ca):
    """A certificate for DNS name localhost (only), signed by ca."""
    cert, key, csr = (os.path.join(d, "server" + e) for e in (".crt", ".key", ".csr"))
    ext = os.path.join(d, "server.ext")
    with open(ext, "w") as f:
        f.write("subjectAltName=DNS:localhost\nextendedKeyUsage=serverAuth\n")
    openssl(["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
             "-keyout", key, "-out", csr, "-subj", "/CN=localhost"])
    openssl(["x509", "-req", "-in", csr, "-CA", ca[0], "-CAkey", ca[1], "-CAcreateserial",
             "-days", "2", "-extfile", ext, "-out", cert])
    return cert, key


class TlsPg(sembark.Pg):
    """A second private cluster: its Unix socket for setup, and TCP on
    127.0.0.1:<port> with TLS only (hostssl)."""

    def __init__(self, base, owner_password, server_pair):
        super().__init__(base, owner_password)
        self.port = sembark.free_port()
        self.server_pair = server_pair
        self.tls = False  # until init() has put the certificate in place

    def init(self):
        super().init()  # starts it once as the harness's cluster, makes the database
        self.stop()
        self._install_tls()
        self.tls = True
        self.start()

    def _install_tls(self):
        for src, name in zip(self.server_pair, ("server.crt", "server.key")):
            dst = os.path.join(self.data, name)
            shutil.copyfile(src, dst)
            os.chmod(dst, 0o600)
            self._chown(dst)
        with open(os.path.join(self.data, "pg_hba.conf"), "w") as f:
            f.write("local all all scram-sha-256\n"
                    "hostssl all all 127.0.0.1/32 scram-sha-256\n")

    def start(self):
        if not self.tls:
            super().start()
            return
        opts = ("-c listen_addresses='127.0.0.1' -c port=%d -c unix_socket_directories='%s' "
                "-c ssl=on -c ssl_cert_file=server.crt -c ssl_key_file=server.key "
                "-c fsync=off -c full_page_writes=off -c synchronous_commit=off "
                "-c max_connections=100" % (self.port, self.sock))
        self._cmd(["pg_ctl", "-D", self.data, "-l", self.logfile, "-o", opts, "-w", "-t", "60",
                   "start"])
        self.running = True

    def connect(self, user=sembark.OWNER, password=None, dbname=sembark.DBNAME, **kw):
        import psycopg2
        if password is None and user == sembark.OWNER:
            password = self.owner_password
        return psycopg2.connect(host=self.sock, port=self.port if self.tls else 5432, user=user, password=password,
                                dbname=dbname, connect_timeout=5, **kw)


@pytest.fixture(scope="module")
def tls_pg(base_dir, sec, migrated):
    if not shutil.which("openssl"):
        pytest.skip("no openssl CLI")
    d = os.path.join(base_dir, "db-tls")
    os.makedirs(d, mode=0o755)
    ca = make_ca(d, "sembark-test-db-ca")
    other_ca = make_ca(d, "sembark-test-other-ca")
    pg = TlsPg(d, sec.passwords["owner"], make_server_cert(d, ca))
    try:
        pg.init()
        yield pg, ca[0], other_ca[0]
    finally:
        pg.destroy()


def db_extra(pg, host, sslmode, rootcert):
    return {"database": {"host": host, "port": str(pg.port), "sslmode": sslmode,
                         "sslrootcert": rootcert}}


def migrate(tmp_path, pg, sec, extra, name):
    cfg = str(tmp_path / (name + ".conf"))
    with open(cfg, "w") as f:
        f.write(sembark.config_text(pg, sec, 1, str(tmp_path / "run"), extra))
    return sembark.run_ctl(cfg, "migrate")


def test_daemons_use_verified_tls(tls_pg, sec, make_stack, tmp_path):
    pg, ca, _ = tls_pg
    extra = db_extra(pg, "localhost", "verify-full", ca)
    r = migrate(tmp_path, pg, sec, extra, "migrate")
    assert r.returncode == 0, r.stderr
    st = make_stack(config=extra)
    code, body, _ = st.health()
    assert code == 200, body
    rows = pg.query("SELECT a.usename, s.ssl FROM pg_stat_activity a JOIN pg_stat_ssl s "
                    "USING (pid) WHERE a.usename IN ('sembark_authd', 'sembark_telemetryd', "
                    "'sembark_logd')")
    by_role = {}
    for user, ssl in rows:
        by_role.setdefault(user, set()).add(ssl)
    assert by_role == {"sembark_authd": {True}, "sembark_telemetryd": {True},
                       "sembark_logd": {True}}, rows


@pytest.mark.parametrize("host,sslmode,rootcert,ok,why", [
    # the certificate names localhost only
    ("127.0.0.1", "verify-full", "ca", False, "does not match host name"),
    ("127.0.0.1", "verify-ca", "ca", True, ""),
    # a CA that did not sign it
    ("localhost", "verify-full", "other", False, "certificate verify failed"),
    # no plain TCP: pg_hba.conf has hostssl only
    ("localhost", "disable", "ca", False, "no encryption"),
])
def test_verify_full_refuses_what_it_must(tls_pg, sec, tmp_path, host, sslmode, rootcert, ok,
                                          why):
    pg, ca, other = tls_pg
    extra = db_extra(pg, host, sslmode, {"ca": ca, "other": other}[rootcert])
    r = migrate(tmp_path, pg, sec, extra, "check")
    if ok:
        assert r.returncode == 0, r.stderr
    else:
        assert r.returncode != 0, r.stdout
        assert why in r.stderr, r.stderr
