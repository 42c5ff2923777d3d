"""sembark.py - the integration suite's harness: a private PostgreSQL cluster,
a running set of sembark daemons (a "stack"), and the small HTTP, logfmt and
sd_notify helpers the tests share.

Owns nothing outside the temporary directories it makes. Every wait has a
deadline; nothing here sleeps without a reason it can check instead.

  Pg       one PostgreSQL cluster in a temporary directory, Unix socket only,
           run as the `postgres` OS user when the suite runs as root.
  Secrets  generated passwords (owner + one per daemon role) and the CSRF key,
           each in a file of mode 0600.
  Stack    a config file and the four daemons started from $SEMBARK_BUILD/bin
           with --config, each with its own NOTIFY_SOCKET; READY=1 on that
           socket is how the harness knows a daemon is up.
"""

import glob
import http.client
import json
import os
import re
import secrets
import select
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import threading
import time
import urllib.parse

import requests

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD_DIR = os.path.join(REPO_ROOT, os.environ.get("SEMBARK_BUILD", "build"))
BIN_DIR = os.path.join(BUILD_DIR, "bin")
WEB_DIR = os.path.join(BUILD_DIR, "web")  # the browser client, built by make
MIGRATIONS_DIR = os.path.join(REPO_ROOT, "migrations")

# ASan/UBSan builds are slower to start and report errors on stderr.
ASAN = "asan" in os.path.basename(os.path.normpath(BUILD_DIR)) or os.environ.get("SEMBARK_ASAN") == "1"
# SEMBARK_VALGRIND=1 (make test-valgrind): every sembark program runs under
# valgrind memcheck, far slower again; each writes its report to a file of its own.
VALGRIND = os.environ.get("SEMBARK_VALGRIND") == "1"
if VALGRIND and ASAN:
    raise RuntimeError("SEMBARK_VALGRIND=1 needs the normal build: valgrind cannot run an ASan binary")
SLOW = 3.0 if ASAN else 8.0 if VALGRIND else 1.0
START_TIMEOUT = 15.0 * SLOW
STOP_TIMEOUT = 10.0 * SLOW

DAEMONS = ("logd", "authd", "telemetryd", "ingressd")  # start order
BACKENDS = ("authd", "telemetryd", "logd")
ROLES = {"authd": "sembark_authd", "telemetryd": "sembark_telemetryd", "logd": "sembark_logd",
         "maild": "sembark_maild"}
OWNER = "sembark_owner"
DBNAME = "sembark"
SECURITY_CONTACT = "mailto:security@example.com"

SANITIZER_PATTERNS = (
    "ERROR: AddressSanitizer",
    "ERROR: LeakSanitizer",
    "AddressSanitizer:DEADLYSIGNAL",
    "runtime error:",
    "WARNING: ThreadSanitizer",
)



def _read_ipc_version():
    """IPC_VERSION as ipc/ipc.h defines it, so frames built here match the daemons."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "ipc", "ipc.h")
    with open(path) as f:
        m = re.search(r"#define IPC_VERSION (\d+)", f.read())
    return int(m.group(1))


IPC_VERSION = _read_ipc_version()

def binary(name):
    """Path of a program in $SEMBARK_BUILD/bin: 'ingressd' -> sembark-ingressd."""
    prog = "sembarkctl" if name in ("ctl", "sembarkctl") else "sembark-" + name
    return os.path.join(BIN_DIR, prog)


# ---- valgrind ------------------------------------------------------------------

VALGRIND_SUPP = os.path.join(REPO_ROOT, "tests", "valgrind.supp")
VALGRIND_LOG_DIR = None  # set by conftest's base_dir fixture
VALGRIND_LOGS = []       # every report file a command() run was given, in order
VALGRIND_REPORTED = set()  # the reports a Stack has already counted as a problem
_valgrind_seq = [0]


def command(name, *args, log_path=None):
    """The argv that runs sembark program `name` with args: the binary itself,
    or under SEMBARK_VALGRIND=1 the binary under valgrind, its report written
    to log_path (default: a fresh file in VALGRIND_LOG_DIR), recorded in
    VALGRIND_LOGS for the teardown check."""
    argv = [binary(name)] + list(args)
    if not VALGRIND:
        return argv
    if log_path is None:
        _valgrind_seq[0] += 1
        log_path = os.path.join(VALGRIND_LOG_DIR or tempfile.gettempdir(),
                                "%s.%d.valgrind" % (name, _valgrind_seq[0]))
    VALGRIND_LOGS.append(log_path)
    return ["valgrind", "--error-exitcode=99", "--leak-check=full",
            "--errors-for-leak-kinds=definite", "--track-fds=no", "--num-callers=30",
            "--suppressions=" + VALGRIND_SUPP, "--log-file=" + log_path] + argv


# The first line of each error valgrind reports (its kinds are fixed strings).
VALGRIND_ERROR_START = re.compile(
    r"^==\d+== (Invalid (read|write|free)|Conditional jump|Use of uninitialised|"
    r"Syscall param|Mismatched free|Source and destination overlap|Argument .* of function|"
    r"Process terminating with default action of signal 11|"
    r"\d[\d,]* bytes in [\d,]+ blocks are definitely lost)", re.M)


def valgrind_problem(path):
    """None when valgrind's report at path is clean (or absent); otherwise why it
    is not, with the report. A process killed by SIGKILL writes no summary: its
    report is judged by the errors it printed before."""
    text = read_text(path)
    if not text:
        return None
    why = []
    for m in re.finditer(r"ERROR SUMMARY: ([\d,]+) errors", text):
        if int(m.group(1).replace(",", "")) > 0:
            why.append("ERROR SUMMARY: %s errors" % m.group(1))
    for m in re.finditer(r"definitely lost: ([\d,]+) bytes", text):
        if int(m.group(1).replace(",", "")) > 0:
            why.append("definitely lost: %s bytes" % m.group(1))
    if not why and VALGRIND_ERROR_START.search(text):
        why.append("errors reported before the process ended")
    if not why:
        return None
    lines = text.splitlines()
    report = "\n".join(lines[:400]) + ("\n... (%d more lines)" % (len(lines) - 400) if len(lines) > 400 else "")
    return "valgrind: %s in %s:\n%s" % ("; ".join(why), os.path.basename(path), report)


def missing_binaries():
    names = [binary(n) for n in DAEMONS] + [binary("ctl")]
    return [p for p in names if not os.access(p, os.X_OK)]


def clean_env(extra=None):
    """The environment for a sembark program: ours minus every SEMBARK_* variable
    (an unknown one is a config error) and NOTIFY_SOCKET/WATCHDOG_*, plus extra."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("SEMBARK_") and k not in
           ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "LISTEN_FDS", "LISTEN_PID",
            "LISTEN_FDNAMES", "CREDENTIALS_DIRECTORY")}
    if ASAN:
        env.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0")
        env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1")
    if extra:
        env.update({k: str(v) for k, v in extra.items()})
    return env


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(pred, timeout, interval=0.05, what="condition"):
    """Poll pred() until it returns a truthy value; return it, or raise. An
    AssertionError inside pred fails at once; other errors (connection
    refused, database away) count as "not yet"."""
    deadline = time.monotonic() + timeout
    last_exc = None
    while True:
        try:
            v = pred()
            if v:
                return v
        except AssertionError:
            raise
        except Exception as e:  # noqa: BLE001 - reported below
            last_exc = e
        if time.monotonic() >= deadline:
            raise AssertionError("timed out after %.1fs waiting for %s%s" %
                                 (timeout, what, "" if last_exc is None else " (last error: %r)" % last_exc))
        time.sleep(interval)


def tail(path, n=40):
    try:
        with open(path, "rb") as f:
            lines = f.read().decode("utf-8", "replace").splitlines()
    except OSError:
        return "(no %s)" % path
    return "\n".join(lines[-n:])


def read_text(path):
    try:
        with open(path, "rb") as f:
            return f.read().decode("utf-8", "replace")
    except OSError:
        return ""


# ---- PostgreSQL ----------------------------------------------------------

def pg_bindir():
    cands = []
    for d in glob.glob("/usr/lib/postgresql/*/bin"):
        try:
            cands.append((int(os.path.basename(os.path.dirname(d))), d))
        except ValueError:
            pass
    if not cands:
        raise RuntimeError("no PostgreSQL server under /usr/lib/postgresql (scripts/deps.sh installs it)")
    return max(cands)[1]


def locale_available(name):
    try:
        out = subprocess.run(["locale", "-a"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return False
    norm = name.lower().replace("-", "")
    return any(l.strip().lower().replace("-", "") == norm for l in out.splitlines())


class Secrets:
    """Generated passwords and keys, one file each, mode 0600 (root's)."""

    def __init__(self, base):
        self.dir = os.path.join(base, "secrets")
        os.makedirs(self.dir, mode=0o700)
        self.passwords = {"owner": secrets.token_urlsafe(24)}
        for d in ROLES:
            self.passwords[d] = secrets.token_urlsafe(24)
        self.files = {}
        for k, v in self.passwords.items():
            self.files[k] = self._write("db-%s-password" % k, v + "\n")
        self.files["csrf"] = self._write("csrf-key", secrets.token_hex(32) + "\n")
        self.files["totp"] = self._write("totp-key", secrets.token_hex(32) + "\n")

    def _write(self, name, text):
        path = os.path.join(self.dir, name)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(text)
        return path


class Pg:
    """A private PostgreSQL cluster: Unix socket only, no TCP."""

    def __init__(self, base, owner_password):
        self.base = base
        self.dir = os.path.join(base, "pg")
        self.data = os.path.join(self.dir, "data")
        self.sock = os.path.join(self.dir, "sock")
        self.logfile = os.path.join(self.dir, "postgres.log")
        self.bindir = pg_bindir()
        self.owner_password = owner_password
        self.as_postgres = os.geteuid() == 0
        self.running = False

    def _cmd(self, argv, check=True, timeout=120):
        argv = [os.path.join(self.bindir, argv[0])] + list(argv[1:])
        if self.as_postgres:
            argv = ["runuser", "-u", "postgres", "--"] + argv
        r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                           env=clean_env({"LC_ALL": "C"}), cwd="/")
        if check and r.returncode != 0:
            raise RuntimeError("%s failed (%d):\n%s\n%s\n%s" % (
                " ".join(argv), r.returncode, r.stdout, r.stderr, tail(self.logfile)))
        return r

    def _chown(self, path):
        if self.as_postgres:
            import pwd
            pw = pwd.getpwnam("postgres")
            os.chown(path, pw.pw_uid, pw.pw_gid)

    def init(self):
        os.chmod(self.base, 0o711)  # postgres must traverse it
        os.makedirs(self.dir, mode=0o700)
        os.makedirs(self.sock, mode=0o755)
        self._chown(self.dir)
        self._chown(self.sock)
        pwfile = os.path.join(self.dir, "initdb-pw")
        fd = os.open(pwfile, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(self.owner_password + "\n")
        self._chown(pwfile)
        loc = "C.UTF-8" if locale_available("C.UTF-8") else "C"
        try:
            self._cmd(["initdb", "-D", self.data, "-U", OWNER, "--auth-local=scram-sha-256",
                       "--auth-host=scram-sha-256", "--pwfile=" + pwfile, "-E", "UTF8",
                       "--locale=" + loc, "--no-sync"])
        finally:
            os.unlink(pwfile)
        self.start()
        self.query("CREATE DATABASE %s OWNER %s" % (DBNAME, OWNER), dbname="postgres")

    def start(self):
        opts = ("-c listen_addresses='' -c unix_socket_directories='%s' -c fsync=off "
                "-c full_page_writes=off -c synchronous_commit=off -c max_connections=200"
                % self.sock)
        self._cmd(["pg_ctl", "-D", self.data, "-l", self.logfile, "-o", opts, "-w", "-t", "60", "start"])
        self.running = True

    def stop(self, mode="fast"):
        self._cmd(["pg_ctl", "-D", self.data, "-m", mode, "-w", "-t", "60", "stop"])
        self.running = False

    def restart(self):
        if self.running:
            self.stop()
        self.start()

    def destroy(self):
        if self.running:
            try:
                self.stop("immediate")
            except Exception:  # noqa: BLE001 - best effort at teardown
                pass

    def connect(self, user=OWNER, password=None, dbname=DBNAME, **kw):
        import psycopg2
        if password is None and user == OWNER:
            password = self.owner_password
        return psycopg2.connect(host=self.sock, port=5432, user=user, password=password,
                                dbname=dbname, connect_timeout=5, **kw)

    def query(self, sql, params=None, user=OWNER, password=None, dbname=DBNAME):
        """Run one statement as `user` in autocommit; rows (or [] for none)."""
        conn = self.connect(user=user, password=password, dbname=dbname)
        try:
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute(sql, params)
                return cur.fetchall() if cur.description else []
        finally:
            conn.close()


# ---- CURVE keys -------------------------------------------------------------

def curve_keygen():
    """(public, secret) from sembarkctl keygen."""
    out = subprocess.run(command("ctl", "keygen"), capture_output=True, text=True,
                         timeout=30 * SLOW, env=clean_env(), check=True).stdout
    kv = dict(line.split(" = ", 1) for line in out.splitlines() if " = " in line)
    assert len(kv["public"]) == 40 and len(kv["secret"]) == 40, out
    return kv["public"], kv["secret"]


def write_0600(path, text):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.chmod(path, 0o600)
    return path


def curve_ipc(tmp_path, endpoints):
    """[ipc] settings: endpoints plus a fresh server and client keypair (secrets in
    0600 files under tmp_path) and an allow-list holding the client key."""
    server_pub, server_sec = curve_keygen()
    client_pub, client_sec = curve_keygen()
    allowed = tmp_path / "allowed-clients"
    allowed.write_text("# ingress hosts and the backends' own connections\n%s\n" % client_pub)
    ipc = dict(endpoints)
    ipc.update({
        "curve_server_public_key": server_pub,
        "curve_server_secret_file": write_0600(str(tmp_path / "server.key"), server_sec + "\n"),
        "curve_client_public_key": client_pub,
        "curve_client_secret_file": write_0600(str(tmp_path / "client.key"), client_sec + "\n"),
        "curve_allowed_clients_file": str(allowed),
    })
    return ipc


# ---- configuration ----------------------------------------------------------

def config_text(pg, sec, port, rundir, extra=None):
    """A complete config file for a stack; extra = {section: {key: value}}."""
    conf = {
        "ingress": {
            "listen": "127.0.0.1:%d" % port,
            "public_origin": "http://127.0.0.1:%d" % port,
            "security_contact": SECURITY_CONTACT,
            "csrf_key_file": sec.files["csrf"],
            "client_rate_limit": "0",
            "static_dir": WEB_DIR,
            "metrics_listen": "",  # on (a free port) where a test asks: see test_metrics.py
        },
        "auth": {"bcrypt_cost": "4", "totp_key_file": sec.files["totp"]},
        "logs": {"level": "info", "flush_ms": "50"},
        "database": {
            "host": pg.sock,
            "port": "5432",
            "name": DBNAME,
            "sslmode": "disable",
            "owner_user": OWNER,
            "owner_password_file": sec.files["owner"],
            "authd_password_file": sec.files["authd"],
            "telemetryd_password_file": sec.files["telemetryd"],
            "logd_password_file": sec.files["logd"],
            "maild_password_file": sec.files["maild"],
        },
        "ipc": {
            "authd": "ipc://%s/authd.sock" % rundir,
            "telemetryd": "ipc://%s/telemetryd.sock" % rundir,
            "logd": "ipc://%s/logd.sock" % rundir,
            "log_sink": "ipc://%s/log.sock" % rundir,
        },
    }
    for sect, kv in (extra or {}).items():
        conf.setdefault(sect, {}).update(kv)
    out = ["; written by tests/integration/sembark.py"]
    for sect, kv in conf.items():
        out.append("[%s]" % sect)
        for k, v in kv.items():
            if v is None:
                continue
            out.append("%s = %s" % (k, v))
        out.append("")
    return "\n".join(out)


def setup_target(pg, sec, dirpath, prefix):
    """For `sembarkctl setup`: a config in dirpath naming an owner role and a database that do
    not exist yet (prefix + a random suffix), and a passfile for the cluster's superuser, the
    admin setup connects as. A dict: cfg, owner, owner_pw, db, env (PGPASSFILE)."""
    suffix = secrets.token_hex(4)
    owner, dbname = prefix + "_owner_" + suffix, prefix + "_" + suffix
    owner_pw = secrets.token_urlsafe(24)
    owner_file = write_0600(os.path.join(dirpath, "owner-password"), owner_pw + "\n")
    cfg = os.path.join(dirpath, "setup.conf")
    with open(cfg, "w") as f:
        f.write(config_text(pg, sec, 1, os.path.join(dirpath, "run"), extra={"database": {
            "name": dbname, "owner_user": owner, "owner_password_file": owner_file}}))
    passfile = write_0600(os.path.join(dirpath, "pgpass"),
                          "*:*:*:%s:%s\n" % (OWNER, pg.owner_password))
    return {"cfg": cfg, "owner": owner, "owner_pw": owner_pw, "db": dbname,
            "env": {"PGPASSFILE": passfile}}


def drop_setup_target(pg, target):
    """Drop what `sembarkctl setup` made for setup_target()."""
    pg.query("DROP DATABASE IF EXISTS %s" % target["db"], dbname="postgres")
    pg.query("DROP ROLE IF EXISTS %s" % target["owner"], dbname="postgres")


def run_ctl(config, *args, env=None, timeout=60):
    """sembarkctl --config CONFIG ARGS...; the CompletedProcess (text)."""
    return subprocess.run(command("ctl", "--config", config, *args), capture_output=True,
                          text=True, timeout=timeout * SLOW, env=clean_env(env), cwd=REPO_ROOT)


# ---- sd_notify ---------------------------------------------------------------

class NotifySocket:
    """An AF_UNIX datagram socket a daemon reports to (NOTIFY_SOCKET). A thread
    collects every datagram with the sender's pid (SO_PASSCRED)."""

    def __init__(self, path):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
        self.sock.bind(path)
        os.chmod(path, 0o666)
        self.messages = []  # (monotonic time, pid, {key: value}, raw text)
        self.cond = threading.Condition()
        self.closing = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        credsz = struct.calcsize("3i")
        while not self.closing:
            try:
                r, _, _ = select.select([self.sock], [], [], 0.2)
            except (OSError, ValueError):
                return
            if not r:
                continue
            try:
                data, anc, _, _ = self.sock.recvmsg(65536, socket.CMSG_SPACE(credsz))
            except OSError:
                continue
            pid = None
            for level, typ, cdata in anc:
                if level == socket.SOL_SOCKET and typ == socket.SCM_CREDENTIALS:
                    pid = struct.unpack("3i", cdata[:credsz])[0]
            text = data.decode("utf-8", "replace")
            kv = {}
            for line in text.split("\n"):
                if "=" in line:
                    k, v = line.split("=", 1)
                    kv[k] = v
            with self.cond:
                self.messages.append((time.monotonic(), pid, kv, text))
                self.cond.notify_all()

    def find(self, key, value=None, pid=None, since=0):
        """Messages (index >= since) from pid carrying key (= value)."""
        with self.cond:
            return self.find_locked(key, value, pid, since)

    def wait(self, key, value=None, pid=None, since=0, timeout=START_TIMEOUT, proc=None):
        """Wait for a message; returns it, or None on timeout or when proc exits first."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                found = self.find_locked(key, value, pid, since)
                if found:
                    return found[0]
                left = deadline - time.monotonic()
                if left <= 0 or (proc is not None and proc.poll() is not None):
                    return None
                self.cond.wait(min(left, 0.1))

    def find_locked(self, key, value, pid, since):
        return [m for m in self.messages[since:]
                if key in m[2] and (value is None or m[2][key] == value)
                and (pid is None or m[1] is None or m[1] == pid)]

    def mark(self):
        with self.cond:
            return len(self.messages)

    def close(self):
        self.closing = True
        try:  # wake the reader at once
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as w:
                w.sendto(b"", self.path)
        except OSError:
            pass
        self.thread.join(2)
        self.sock.close()
        try:
            os.unlink(self.path)
        except OSError:
            pass


# ---- the daemons ---------------------------------------------------------------

class Daemon:
    def __init__(self, stack, name, prog=None, config=None, port=None):
        self.stack = stack
        self.name = name
        self.prog = prog or name      # 'ingressd' for a second ingress 'ingressd2'
        self.config = config          # None: the stack's config file
        self.port = port              # an extra ingress's own port
        self.proc = None
        self.starts = 0
        self.expected_exit = True  # no process yet
        self.stderr_paths = []
        self.stdout_paths = []
        self.prefix = []              # run under this, e.g. ["ip", "netns", "exec", NS]
        self.valgrind_paths = []
        self.notify = NotifySocket(os.path.join(stack.dir, "notify-%s.sock" % name))
        self.mark = 0
        self.exit_codes = []

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    @property
    def stderr_path(self):
        return self.stderr_paths[-1] if self.stderr_paths else None

    def running(self):
        return self.proc is not None and self.proc.poll() is None


class Stack:
    """A config file plus the four daemons, on a free loopback port."""

    _seq = 0

    def __init__(self, pg, sec, base, config=None, env=None, daemon_env=None, host="127.0.0.1",
                 port=None):
        """host, port: where the ingress listens (config's [ingress] listen must say the same)."""
        Stack._seq += 1
        self.pg = pg
        self.sec = sec
        self.dbname = ((config or {}).get("database") or {}).get("name", DBNAME)
        self.dir = os.path.join(base, "s%d" % Stack._seq)
        self.rundir = os.path.join(self.dir, "run")
        os.makedirs(self.rundir, mode=0o755)
        self.host = host
        self.port = port or free_port()
        self.origin = "http://%s:%d" % (host, self.port)
        self.config = os.path.join(self.dir, "sembark.conf")
        with open(self.config, "w") as f:
            f.write(config_text(pg, sec, self.port, self.rundir, config))
        self.env = dict(env or {})
        self.daemon_env = {k: dict(v) for k, v in (daemon_env or {}).items()}
        self.daemons = {n: Daemon(self, n) for n in DAEMONS}
        self.http = requests.Session()
        self.http.trust_env = False  # no proxies for loopback
        self.problems = []
        self.config_extra = {k: dict(v) for k, v in (config or {}).items()}
        self.extra = []  # names of extra daemons (add_ingress, add_authd), stopped first, newest first
        self.started_at = time.time()

    # -- process control

    def start_all(self):
        for n in DAEMONS:
            self.start(n)
        self.wait_healthy()
        return self

    def start(self, name, env=None, wait_ready=True):
        """Start one daemon and wait for READY=1 from it (unless wait_ready=False)."""
        d = self.daemons[name]
        assert not d.running(), "%s already running (pid %d)" % (name, d.pid)
        d.starts += 1
        errpath = os.path.join(self.dir, "%s.%d.stderr" % (name, d.starts))
        outpath = os.path.join(self.dir, "%s.%d.stdout" % (name, d.starts))
        d.stderr_paths.append(errpath)
        d.stdout_paths.append(outpath)
        vgpath = os.path.join(self.dir, "%s.%d.valgrind" % (name, d.starts))
        d.valgrind_paths.append(vgpath)
        e = dict(self.env)
        e.update(self.daemon_env.get(name, {}))
        e.update(env or {})
        e["NOTIFY_SOCKET"] = d.notify.path
        d.mark = d.notify.mark()
        with open(errpath, "wb") as errf, open(outpath, "wb") as outf:
            d.proc = subprocess.Popen(d.prefix + command(d.prog, "--config", d.config or self.config,
                                                         log_path=vgpath),
                                      stdin=subprocess.DEVNULL,
                                      stdout=outf, stderr=errf, env=clean_env(e), cwd=self.dir,
                                      start_new_session=True)
        d.expected_exit = False
        if wait_ready:
            self.wait_ready(name)
        return d

    def wait_ready(self, name, timeout=START_TIMEOUT):
        d = self.daemons[name]
        m = d.notify.wait("READY", "1", pid=d.pid, since=d.mark, timeout=timeout, proc=d.proc)
        if m is None:
            rc = d.proc.poll()
            state = "exited with %s" % rc if rc is not None else "still running, no READY=1 after %.0fs" % timeout
            if rc is None:
                self._signal(d, signal.SIGKILL)
                d.proc.wait(5)
            d.expected_exit = True
            raise AssertionError("sembark-%s did not become ready (%s); stderr:\n%s" %
                                 (name, state, tail(d.stderr_path)))
        return m

    def _signal(self, d, sig):
        try:
            os.kill(d.proc.pid, sig)
        except ProcessLookupError:
            pass

    def send_signal(self, name, sig):
        self._signal(self.daemons[name], sig)

    def stop(self, name, sig=signal.SIGTERM, timeout=STOP_TIMEOUT):
        """Send sig (SIGTERM) and wait for the exit; returns the exit code
        (negative: killed by that signal). A daemon that does not exit in time
        is killed and the test fails."""
        d = self.daemons[name]
        assert d.proc is not None, "%s was never started" % name
        d.expected_exit = True
        if d.proc.poll() is None:
            self._signal(d, signal.SIGCONT)
            self._signal(d, sig)
        try:
            rc = d.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self._signal(d, signal.SIGKILL)
            d.proc.wait(5)
            raise AssertionError("sembark-%s did not exit within %.0fs of signal %d; stderr:\n%s" %
                                 (name, timeout, sig, tail(d.stderr_path)))
        d.exit_codes.append(rc)
        self._check_sanitizer(d)
        return rc

    def wait_exit(self, name, timeout=STOP_TIMEOUT):
        """Wait for a daemon the test signalled itself; its exit code."""
        d = self.daemons[name]
        d.expected_exit = True
        try:
            rc = d.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self._signal(d, signal.SIGKILL)
            d.proc.wait(5)
            raise AssertionError("sembark-%s did not exit within %.0fs; stderr:\n%s" %
                                 (name, timeout, tail(d.stderr_path))) from None
        d.exit_codes.append(rc)
        self._check_sanitizer(d)
        return rc

    def kill(self, name):
        """SIGKILL, as a crash would."""
        return self.stop(name, signal.SIGKILL, timeout=5)

    def restart(self, name, env=None):
        d = self.daemons[name]
        if d.running():
            self.stop(name)
        return self.start(name, env=env)

    def pid(self, name):
        return self.daemons[name].pid

    def stderr(self, name, all_runs=True):
        d = self.daemons[name]
        paths = d.stderr_paths if all_runs else d.stderr_paths[-1:]
        return "".join(read_text(p) for p in paths)

    def stdout(self, name):
        return "".join(read_text(p) for p in self.daemons[name].stdout_paths)

    def _check_sanitizer(self, d):
        for p in d.stderr_paths + d.stdout_paths:
            text = read_text(p)
            for pat in SANITIZER_PATTERNS:
                if pat in text:
                    msg = "sembark-%s: sanitizer report (%s) in %s:\n%s" % (d.name, pat, os.path.basename(p), tail(p, 60))
                    if msg not in self.problems:
                        self.problems.append(msg)
                    break
        for p in d.valgrind_paths:
            msg = valgrind_problem(p)
            if msg and p not in VALGRIND_REPORTED:
                VALGRIND_REPORTED.add(p)
                self.problems.append("sembark-%s: %s" % (d.name, msg))

    def close(self):
        """Stop every daemon; return the list of problems seen (crashes, hangs,
        sanitizer reports)."""
        for d in self.daemons.values():
            if d.proc is None:
                continue
            if d.proc.poll() is not None and not d.expected_exit:
                self.problems.append("sembark-%s died during the test (exit %s); stderr:\n%s" %
                                     (d.name, d.proc.returncode, tail(d.stderr_path)))
                d.expected_exit = True
        for n in list(reversed(self.extra)) + list(reversed(DAEMONS)):  # ingresses first
            d = self.daemons[n]
            if d.proc is None:
                continue
            if d.proc.poll() is None:
                try:
                    self.stop(n)
                except AssertionError as e:
                    self.problems.append(str(e))
            self._check_sanitizer(d)
        for d in self.daemons.values():
            d.notify.close()
        self.http.close()
        return self.problems

    def add_maild(self, start=True):
        """sembark-maild for this stack (not one of DAEMONS: only the mail tests run it),
        with the stack's config; its [mail] settings come from the stack's config. Stopped
        before the others at teardown."""
        assert "maild" not in self.daemons
        self.daemons["maild"] = Daemon(self, "maild")
        self.extra.append("maild")
        if start:
            self.start("maild")
        return self.daemons["maild"]

    def add_ingress(self, name="ingressd2", config=None, env=None, start=True):
        """A second sembark-ingressd (daemon `name`) on a free port of its
        own, against this stack's backends (the same [ipc] endpoints, CSRF
        key and public origin, unless config says otherwise), as a second
        instance behind one load balancer would be. Its base URL is
        stack.ingress_url(name). Stopped before the others at teardown."""
        assert name not in self.daemons, name
        port = free_port()
        extra = {k: dict(v) for k, v in self.config_extra.items()}
        extra.setdefault("ingress", {}).update({"listen": "127.0.0.1:%d" % port,
                                                "public_origin": self.origin})
        for sect, kv in (config or {}).items():
            extra.setdefault(sect, {}).update(kv)
        path = os.path.join(self.dir, "%s.conf" % name)
        with open(path, "w") as f:
            f.write(config_text(self.pg, self.sec, self.port, self.rundir, extra))
        self.daemons[name] = Daemon(self, name, prog="ingressd", config=path, port=port)
        self.extra.append(name)
        if env:
            self.daemon_env[name] = dict(env)
        if start:
            self.start(name)
            base = self.ingress_url(name)
            wait_until(lambda: requests.get(base + "/healthz", timeout=5,
                                            proxies={"http": None}).status_code == 200,
                       START_TIMEOUT, interval=0.1, what="/healthz 200 from %s" % name)
        return self.daemons[name]

    def add_authd(self, name="authd2", config=None, env=None, start=True):
        """A second sembark-authd (daemon `name`) on ROUTER endpoint(stack,
        name), with this stack's database and config otherwise. Ingresses
        reach it when their [ipc] authd names it (authd_endpoints()).
        Stopped before the others at teardown."""
        assert name not in self.daemons, name
        extra = {k: dict(v) for k, v in self.config_extra.items()}
        extra.setdefault("ipc", {})["authd"] = endpoint(self, name)
        for sect, kv in (config or {}).items():
            extra.setdefault(sect, {}).update(kv)
        path = os.path.join(self.dir, "%s.conf" % name)
        with open(path, "w") as f:
            f.write(config_text(self.pg, self.sec, self.port, self.rundir, extra))
        self.daemons[name] = Daemon(self, name, prog="authd", config=path)
        self.extra.append(name)
        if env:
            self.daemon_env[name] = dict(env)
        if start:
            self.start(name)
        return self.daemons[name]

    def authd_endpoints(self, *names):
        """An [ipc] authd value naming these authd daemons (a DEALER spreads over them)."""
        return ",".join(endpoint(self, n) for n in names)

    def ingress_url(self, name="ingressd", path=""):
        """Base URL (plus path) of an ingress of this stack."""
        d = self.daemons[name]
        return "http://%s:%d%s" % (self.host, d.port or self.port, path)

    # -- HTTP

    def url(self, path="/"):
        return self.origin + path

    def get(self, path, **kw):
        kw.setdefault("timeout", 10)
        kw.setdefault("allow_redirects", False)
        return self.http.get(self.url(path), **kw)

    def request(self, method, path, **kw):
        kw.setdefault("timeout", 10)
        kw.setdefault("allow_redirects", False)
        return self.http.request(method, self.url(path), **kw)

    def health(self, timeout=10):
        """(status, json body or None, seconds taken) of GET /healthz."""
        t0 = time.monotonic()
        r = requests.get(self.url("/healthz"), timeout=timeout, proxies={"http": None})
        dt = time.monotonic() - t0
        try:
            body = r.json()
        except ValueError:
            body = None
        return r.status_code, body, dt

    def wait_healthy(self, timeout=START_TIMEOUT):
        def ok():
            st, body, _ = self.health(timeout=5)
            return st == 200 and body and body.get("status") == "ok"
        try:
            wait_until(ok, timeout, interval=0.1, what="/healthz 200")
        except AssertionError as e:
            try:
                st, body, _ = self.health(timeout=5)
                last = "%s %r" % (st, body)
            except Exception as e2:  # noqa: BLE001
                last = repr(e2)
            raise AssertionError("%s; last answer: %s\n%s" % (e, last, self.stderr_tails())) from None

    def stderr_tails(self, n=15):
        out = []
        for d in self.daemons.values():
            if d.stderr_path:
                out.append("--- sembark-%s stderr (last %d lines) ---\n%s" % (d.name, n, tail(d.stderr_path, n)))
        return "\n".join(out)


def make_base_dir():
    return tempfile.mkdtemp(prefix="sembark-it-", dir="/tmp")


def remove_dir(path):
    shutil.rmtree(path, ignore_errors=True)


# ---- raw HTTP over a socket ----------------------------------------------------

class RawResponse:
    def __init__(self, status, reason, headers, body):
        self.status = status
        self.reason = reason
        self.headers = headers  # lower-case name -> value (last wins); .all for lists
        self.body = body

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    def __repr__(self):
        return "<RawResponse %d %r %r>" % (self.status, self.headers, self.body[:200])


class RawConn:
    """A TCP connection with a read buffer, so that pipelined responses that
    arrive in one segment are read one at a time."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def sendall(self, data):
        self.sock.sendall(data)

    def settimeout(self, t):
        self.sock.settimeout(t)

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()

    def _fill(self):
        """Read more into buf; False at end of stream."""
        try:
            chunk = self.sock.recv(65536)
        except ConnectionResetError:
            chunk = b""
        if not chunk:
            return False
        self.buf += chunk
        return True

    def _take(self, n):
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def read_response(self, timeout=10):
        """Read one HTTP/1.x response; None when the server closed the
        connection without sending a status line."""
        self.sock.settimeout(timeout)
        while b"\r\n\r\n" not in self.buf:
            if not self._fill():
                if not self.buf:
                    return None
                raise AssertionError("connection closed inside the response head: %r" % self.buf[:500])
            if len(self.buf) > 1 << 20:
                raise AssertionError("response head over 1 MiB")
        i = self.buf.index(b"\r\n\r\n")
        head = self._take(i + 4)[:-4]
        lines = head.decode("iso-8859-1").split("\r\n")
        m = re.match(r"HTTP/1\.[01] (\d{3})(?: (.*))?$", lines[0])
        if not m:
            raise AssertionError("bad status line %r" % lines[0])
        headers = {}
        allh = []
        for line in lines[1:]:
            k, _, v = line.partition(":")
            headers[k.strip().lower()] = v.strip()
            allh.append((k.strip().lower(), v.strip()))
        if "content-length" in headers:
            n = int(headers["content-length"])
            while len(self.buf) < n:
                if not self._fill():
                    raise AssertionError("connection closed after %d of %d body bytes" % (len(self.buf), n))
            body = self._take(n)
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            body = self._read_chunked()
        else:
            while self._fill():
                pass
            body = self._take(len(self.buf))
        r = RawResponse(int(m.group(1)), m.group(2) or "", headers, body)
        r.all_headers = allh
        return r

    def _read_chunked(self):
        out = b""
        while True:
            while b"\r\n" not in self.buf:
                if not self._fill():
                    raise AssertionError("closed inside chunked body")
            line = self._take(self.buf.index(b"\r\n") + 2)
            n = int(line.split(b";")[0], 16)
            while len(self.buf) < n + 2:
                if not self._fill():
                    raise AssertionError("closed inside chunk")
            out += self._take(n + 2)[:n]
            if n == 0:
                return out


def raw_connect(port, host="127.0.0.1", source=None, timeout=10):
    s = socket.create_connection((host, port), timeout=timeout,
                                 source_address=(source, 0) if source else None)
    return RawConn(s)


def read_response(conn, timeout=10):
    return conn.read_response(timeout)


def raw_request(port, data, timeout=10, source=None):
    """Send raw bytes, read one response (None if closed without one)."""
    with raw_connect(port, source=source, timeout=timeout) as s:
        s.sendall(data)
        return s.read_response(timeout)


def http_get_from(port, path, source, timeout=10, headers=None):
    """GET over http.client from a chosen source address (e.g. 127.0.0.2)."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout, source_address=(source, 0))
    try:
        c.request("GET", path, headers=headers or {})
        r = c.getresponse()
        return r.status, r.read()
    finally:
        c.close()


# ---- error bodies and headers --------------------------------------------------

def assert_json_error(status_and_body, code=None, status=None):
    """status_and_body: a requests.Response or RawResponse. Checks the JSON
    error body {"error": str, "message": str} and optionally its code."""
    r = status_and_body
    st = r.status_code if hasattr(r, "status_code") else r.status
    body = r.content if hasattr(r, "content") else r.body
    ctype = r.headers.get("content-type", r.headers.get("Content-Type", "")) if hasattr(r, "headers") else ""
    if status is not None:
        if isinstance(status, (tuple, list, set)):
            assert st in status, "status %d, expected one of %s; body %r" % (st, sorted(status), body[:300])
        else:
            assert st == status, "status %d, expected %d; body %r" % (st, status, body[:300])
    assert ctype.lower().startswith("application/json"), \
        "status %d: Content-Type %r, expected application/json; body %r" % (st, ctype, body[:300])
    try:
        j = json.loads(body.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as e:
        raise AssertionError("status %d: body is not JSON (%s): %r" % (st, e, body[:300])) from None
    assert isinstance(j, dict), "error body is not an object: %r" % j
    assert isinstance(j.get("error"), str) and j["error"], "no error code string in %r" % j
    assert isinstance(j.get("message"), str) and j["message"], "no message string in %r" % j
    if code is not None:
        assert j["error"] == code, "error %r, expected %r (status %d, body %r)" % (j["error"], code, st, j)
    return j


def header(r, name):
    if isinstance(r, RawResponse):
        return r.headers.get(name.lower())
    return r.headers.get(name)


def security_header_problems(r):
    """Every missing or wrong security header of a response, as strings."""
    p = []
    if header(r, "X-Content-Type-Options") != "nosniff":
        p.append("X-Content-Type-Options=%r" % header(r, "X-Content-Type-Options"))
    if header(r, "Referrer-Policy") != "same-origin":
        p.append("Referrer-Policy=%r" % header(r, "Referrer-Policy"))
    if (header(r, "X-Frame-Options") or "").upper() != "DENY":
        p.append("X-Frame-Options=%r" % header(r, "X-Frame-Options"))
    csp = header(r, "Content-Security-Policy") or ""
    if "default-src 'self'" not in csp or "frame-ancestors 'none'" not in csp:
        p.append("Content-Security-Policy=%r" % csp)
    if header(r, "Strict-Transport-Security") is not None:
        p.append("Strict-Transport-Security over plain HTTP: %r" % header(r, "Strict-Transport-Security"))
    return p


def csrf_headers(stack):
    """Headers a browser would send on a state-changing JSON request: Origin,
    and the X-XSRF-TOKEN from GET /api/csrf when that route exists (later
    milestones), so that the generic body checks are reached."""
    h = {"Origin": stack.origin}
    try:
        r = stack.get("/api/csrf")
    except requests.RequestException:
        return h
    tok = stack.http.cookies.get("XSRF-TOKEN")
    if r.status_code == 204 and tok:
        h["X-XSRF-TOKEN"] = urllib.parse.unquote(tok)
    return h


# ---- logfmt ----------------------------------------------------------------------

_KEY = re.compile(r"[a-z0-9_]+")
TIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$")


def parse_logfmt(line):
    """Parse one logfmt line into [(key, value)], or raise ValueError. Bare
    values have no space, '=' or '"'; quoted values use \\" \\\\ \\n \\r \\t \\xHH."""
    out = []
    i, n = 0, len(line)
    while i < n:
        m = _KEY.match(line, i)
        if not m:
            raise ValueError("no key at column %d" % i)
        key = m.group(0)
        i = m.end()
        if i >= n or line[i] != "=":
            raise ValueError("key %r without '=' at column %d" % (key, i))
        i += 1
        if i < n and line[i] == '"':
            i += 1
            val = []
            while True:
                if i >= n:
                    raise ValueError("unterminated quoted value of %r" % key)
                c = line[i]
                if c == '"':
                    i += 1
                    break
                if c == "\\":
                    if i + 1 >= n:
                        raise ValueError("dangling backslash")
                    e = line[i + 1]
                    if e in '"\\':
                        val.append(e)
                        i += 2
                    elif e in "nrt":
                        val.append({"n": "\n", "r": "\r", "t": "\t"}[e])
                        i += 2
                    elif e == "x" and re.match(r"[0-9a-fA-F]{2}", line[i + 2:i + 4]):
                        val.append(chr(int(line[i + 2:i + 4], 16)))
                        i += 4
                    else:
                        raise ValueError("bad escape \\%s" % e)
                elif ord(c) < 0x20 or c == "\x7f":
                    raise ValueError("raw control byte in quoted value")
                else:
                    val.append(c)
                    i += 1
            value = "".join(val)
        else:
            j = i
            while j < n and line[j] != " ":
                if line[j] in '="' or ord(line[j]) < 0x20 or line[j] == "\x7f":
                    raise ValueError("bad character %r in bare value of %r" % (line[j], key))
                j += 1
            value = line[i:j]
            i = j
        out.append((key, value))
        if i < n:
            if line[i] != " ":
                raise ValueError("expected a space at column %d" % i)
            i += 1
            if i >= n:
                raise ValueError("trailing space")
    return out


def check_log_line(line, service=None):
    """Problems with one stderr line of a sembark daemon ([] when fine)."""
    try:
        kv = parse_logfmt(line)
    except ValueError as e:
        return ["not logfmt (%s): %r" % (e, line[:300])]
    p = []
    keys = [k for k, _ in kv]
    if len(keys) < 2 or keys[0] != "time" or keys[1] != "service":
        p.append("does not start with time= service=: %r" % line[:300])
    for k in ("time", "service", "level", "msg"):
        if keys.count(k) != 1:
            p.append("%d %s= keys: %r" % (keys.count(k), k, line[:300]))
    d = dict(kv)
    if "time" in d and not TIME_RE.match(d["time"]):
        p.append("time %r is not RFC 3339 UTC" % d["time"])
    if service and d.get("service") not in (service, "sembark-" + service):
        p.append("service=%r, expected %r" % (d.get("service"), service))
    if d.get("level") not in ("debug", "info", "warning", "error", None):
        p.append("level=%r" % d.get("level"))
    return p


# ---- IP addresses ------------------------------------------------------------------

IPV4_RE = re.compile(r"(?<![0-9.])(?:\d{1,3}\.){3}\d{1,3}(?![0-9]|\.[0-9])")
# IPv6: '::' forms, or 8 hex groups, or a v4-mapped tail; plain times like 05:00:00 do not match.
IPV6_RE = re.compile(r"(?i)(?<![0-9a-z:])(?:(?:[0-9a-f]{1,4}:){7}[0-9a-f]{1,4}|"
                     r"(?:[0-9a-f]{1,4}:){0,6}[0-9a-f]{0,4}::(?:[0-9a-f]{1,4}:){0,6}[0-9a-f]{0,4}"
                     r"|::ffff:(?:\d{1,3}\.){3}\d{1,3})(?![0-9a-z:])")


def find_ip_addresses(text):
    """Every substring of text that looks like an IPv4 or IPv6 address."""
    found = [m.group(0) for m in IPV4_RE.finditer(text)]
    for m in IPV6_RE.finditer(text):
        s = m.group(0)
        # '::' alone inside e.g. C++ names or a bare "::" is no address
        if s.strip(":") == "":
            continue
        found.append(s)
    return found


# ---- ZeroMQ + msgpack (talking to the daemons directly) ------------------------------

def have_zmq():
    try:
        import msgpack  # noqa: F401
        import zmq  # noqa: F401
    except ImportError:
        return False
    return True


def ipc_frame(type_, body, id_=1, v=None):
    """One envelope {v, type, id, body} as msgpack bytes."""
    import msgpack
    if v is None:
        v = IPC_VERSION
    return msgpack.packb({"v": v, "type": type_, "id": id_, "body": body}, use_bin_type=True)


def log_record_body(msg, service="ingressd", level="info", fields=None, time_us=None):
    return {"time_us": int(time.time() * 1e6) if time_us is None else time_us,
            "service": service, "level": level, "msg": msg, "fields": dict(fields or {})}


_zctx = None


def zctx():
    global _zctx
    import zmq
    if _zctx is None:
        _zctx = zmq.Context()
    return _zctx


def push_frames(endpoint, frames, linger_ms=2000):
    """Connect a PUSH to endpoint (logd's PULL), send each frame (bytes, or a
    list of bytes for a multi-part message), close after delivering."""
    import zmq
    s = zctx().socket(zmq.PUSH)
    s.setsockopt(zmq.LINGER, linger_ms)
    s.setsockopt(zmq.SNDTIMEO, 2000)
    s.connect(endpoint)
    try:
        for f in frames:
            if isinstance(f, (list, tuple)):
                s.send_multipart(list(f))
            else:
                s.send(f)
    finally:
        s.close(linger=linger_ms)


class Dealer:
    """A DEALER connected to a backend's ROUTER, for request/reply by hand."""

    def __init__(self, endpoint):
        import zmq
        self.zmq = zmq
        self.s = zctx().socket(zmq.DEALER)
        self.s.setsockopt(zmq.LINGER, 0)
        self.s.setsockopt(zmq.SNDTIMEO, 2000)
        self.s.connect(endpoint)

    def send(self, frame):
        if isinstance(frame, (list, tuple)):
            self.s.send_multipart(list(frame))
        else:
            self.s.send(frame)

    def recv(self, timeout=3.0):
        """The next reply's frames, or None when none comes in time."""
        if self.s.poll(int(timeout * 1000)) == 0:
            return None
        return self.s.recv_multipart()

    def call(self, frame, timeout=3.0):
        self.send(frame)
        return self.recv(timeout)

    def close(self):
        self.s.close(linger=0)

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()


def decode_reply(frames):
    """The envelope of a reply (the last frame), as a dict."""
    import msgpack
    return msgpack.unpackb(frames[-1], raw=False)


def endpoint(stack, name):
    return "ipc://%s/%s.sock" % (stack.rundir, name)


class Backend:
    """Requests straight to one daemon's ROUTER (as ingressd sends them),
    each with the next id; call() returns the decoded reply envelope."""

    def __init__(self, stack, name):
        self.name = name
        self.dealer = Dealer(endpoint(stack, name))
        self.seq = 0

    def close(self):
        self.dealer.close()

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()

    def call(self, type_, body, timeout=10.0):
        self.seq += 1
        frames = self.dealer.call(ipc_frame(type_, body, id_=self.seq), timeout=timeout)
        assert frames is not None, "%s did not answer %s within %.0fs" % (self.name, type_, timeout)
        reply = decode_reply(frames)
        assert reply["id"] == self.seq, reply
        return reply
