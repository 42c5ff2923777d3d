"""test_deb.py - the Debian package, for real on this host (SEMBARK_TEST_DEB=1, as root;
`make test-deb`; not part of `make test`: it takes minutes and installs a package).

Builds the .deb from this tree (scripts/build-deb.sh), runs lintian (no error), installs it
with dpkg -i, and checks: the system users and groups (sysusers.d), the tmpfiles.d
directories, every file where the package promises it, /etc/sembark/sembark.conf a conffile
that every daemon accepts, no unit enabled and no daemon running, sembarkctl --version; then
the installed sembarkctl sets up a fresh database on the test cluster from the packaged
migrations. Last it purges the package and checks nothing of it is left running or
installed. The upgrade path (postinst migrating and restarting running units) needs systemd
as PID 1, which the boot test provides, not this one."""

import glob
import os
import pwd
import grp
import re
import stat
import subprocess
import time

import pytest

import sembark

pytestmark = pytest.mark.skipif(os.environ.get("SEMBARK_TEST_DEB") != "1" or os.geteuid() != 0,
                                reason="set SEMBARK_TEST_DEB=1 and run as root (make test-deb)")

PROGRAMS = ["sembark-ingressd", "sembark-authd", "sembark-telemetryd", "sembark-logd",
            "sembark-maild", "sembarkctl"]
USERS = ["sembark-ingress", "sembark-auth", "sembark-telemetry", "sembark-log", "sembark-mail"]
UNIT_DIR = "/lib/systemd/system"
UNITS = ["sembark-ingressd.service", "sembark-ingressd@.service", "sembark-ingressd.socket",
         "sembark-ingressd-metrics.socket",
         "sembark-authd.service", "sembark-telemetryd.service", "sembark-logd.service",
         "sembark-maild.service",
         "sembark-migrate.service", "sembark.target"]
CONF = "/etc/sembark/sembark.conf"
BUILD_TIMEOUT = 1800


def run(argv, timeout=300, check=True, env=None):
    r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=env)
    if check and r.returncode != 0:
        raise AssertionError("%s exited %d\n%s\n%s" % (" ".join(argv), r.returncode,
                                                        r.stdout[-3000:], r.stderr[-3000:]))
    return r


def dpkg(*args):
    """dpkg ARGS, waiting (at most 5 min) while another apt/dpkg holds the lock."""
    deadline = time.monotonic() + 300
    while True:
        r = run(["dpkg"] + list(args), check=False)
        if r.returncode == 0 or "lock" not in r.stderr or time.monotonic() > deadline:
            assert r.returncode == 0, (args, r.stdout, r.stderr)
            return r
        time.sleep(5)


def installed():
    r = run(["dpkg-query", "-W", "-f=${Status}", "sembark"], check=False)
    return "installed" in r.stdout and "not-installed" not in r.stdout


def running_programs():
    """pid: program of every process whose executable is one of ours."""
    found = {}
    for exe in glob.glob("/proc/[0-9]*/exe"):
        try:
            target = os.readlink(exe)
        except OSError:
            continue
        if os.path.basename(target).split(" ")[0] in PROGRAMS and target.startswith("/usr/bin/"):
            found[exe.split("/")[2]] = target
    return found


@pytest.fixture(scope="module")
def deb(tmp_path_factory):
    out = str(tmp_path_factory.mktemp("deb"))
    r = run(["nice", "bash", os.path.join(sembark.REPO_ROOT, "scripts/build-deb.sh"), out],
            timeout=BUILD_TIMEOUT)
    path = r.stdout.strip().splitlines()[-1]
    assert path.endswith("_amd64.deb") or path.endswith(".deb"), r.stdout
    return path


def existing_users():
    return {u for u in USERS if run(["getent", "passwd", u], check=False).returncode == 0}


@pytest.fixture(scope="module")
def installed_deb(deb):
    """The package installed; purged after, and the users it made removed again (a purge
    keeps system users and tmpfiles.d's /etc/credstore, as Debian does; this host is shared,
    so the test does not)."""
    if installed():
        pytest.fail("a sembark package is already installed on this host; purge it first")
    users_before = existing_users()
    credstore_before = os.path.isdir("/etc/credstore")
    try:
        dpkg("-i", deb)
        yield deb
    finally:
        if installed():
            dpkg("--purge", "sembark")
        for u in sorted(existing_users() - users_before):
            run(["userdel", u], check=False)
            run(["groupdel", u], check=False)
        if not credstore_before and os.path.isdir("/etc/credstore"):
            os.rmdir("/etc/credstore")  # tmpfiles.d made it; it stays empty here


def test_lintian_reports_no_error(deb):
    r = run(["lintian", "--fail-on", "error", deb], check=False, timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    assert not re.search(r"^E: ", r.stdout, re.M), r.stdout


def test_users_and_directories(installed_deb):
    for u in USERS:
        assert pwd.getpwnam(u).pw_uid < 1000, u
        assert grp.getgrnam(u).gr_gid < 1000, u
    for path, mode in (("/run/sembark", 0o755), ("/etc/sembark", 0o755), ("/etc/credstore", 0o700)):
        st = os.stat(path)
        assert stat.S_ISDIR(st.st_mode) and stat.S_IMODE(st.st_mode) == mode, (path, oct(st.st_mode))


def test_files_where_promised(installed_deb):
    for p in PROGRAMS:
        assert os.access("/usr/bin/" + p, os.X_OK), p
    for u in UNITS:
        assert os.path.isfile(os.path.join(UNIT_DIR, u)), u
    with open(os.path.join(UNIT_DIR, "sembark-ingressd@.service")) as f:
        assert "\nSockets=sembark-ingressd.socket\n" in f.read()
    for p in ("/usr/lib/sysusers.d/sembark.conf", "/usr/lib/tmpfiles.d/sembark.conf",
              "/usr/lib/systemd/journald.conf.d/sembark-retention.conf",
              "/usr/share/sembark/web/index.html", "/usr/share/doc/sembark/copyright"):
        assert os.path.isfile(p), p
    want = sorted(f for f in os.listdir(sembark.MIGRATIONS_DIR) if f.endswith(".sql"))
    assert sorted(os.listdir("/usr/share/sembark/migrations")) == want
    assert glob.glob("/usr/share/sembark/web/assets/*/"), "web assets"


def test_conffile_and_config(installed_deb):
    conffiles = run(["dpkg-query", "-W", "-f=${Conffiles}", "sembark"]).stdout
    assert CONF in conffiles, conffiles
    with open(CONF) as f:
        text = f.read()
    with open(os.path.join(sembark.REPO_ROOT, "systemd/sembark.conf.example")) as f:
        assert text == f.read()
    assert re.search(r"^static_dir = /usr/share/sembark/web$", text, re.M), text
    for p in PROGRAMS[:-1]:
        r = run(["/usr/bin/" + p, "--config", CONF, "--check-config"], env=sembark.clean_env())
        assert "ok" in (r.stdout + r.stderr), (p, r.stdout, r.stderr)


def test_nothing_enabled_nothing_running(installed_deb):
    links = glob.glob("/etc/systemd/system/*.wants/sembark*")
    assert links == [], links
    assert running_programs() == {}


def test_version(installed_deb):
    with open(os.path.join(sembark.REPO_ROOT, "VERSION")) as f:
        version = f.read().strip()
    r = run(["/usr/bin/sembarkctl", "--version"])
    assert r.stdout.strip() == "sembarkctl " + version, r.stdout


def test_installed_sembarkctl_sets_up_from_packaged_migrations(installed_deb, pg, sec, tmp_path):
    """No --migrations, no SEMBARK_MIGRATIONS_DIR: the packaged default directory."""
    target = sembark.setup_target(pg, sec, str(tmp_path), "sembark_deb")
    try:
        r = run(["/usr/bin/sembarkctl", "--config", target["cfg"], "setup", "--admin-user",
                 sembark.OWNER], env=sembark.clean_env(target["env"]), check=False)
        assert r.returncode == 0, (r.stdout, r.stderr)
        assert "applying 0001_roles.sql ... ok" in r.stdout, r.stdout
        st = run(["/usr/bin/sembarkctl", "--config", target["cfg"], "migrate", "--status"],
                 env=sembark.clean_env())
        assert "migrations in /usr/share/sembark/migrations" in st.stdout, st.stdout
    finally:
        sembark.drop_setup_target(pg, target)


def test_purge_leaves_nothing_running_or_installed(installed_deb):
    dpkg("--purge", "sembark")
    assert not installed()
    for p in PROGRAMS:
        assert not os.path.exists("/usr/bin/" + p), p
    assert not os.path.exists(CONF)
    assert not os.path.exists("/usr/share/sembark")
    assert not glob.glob(os.path.join(UNIT_DIR, "sembark*"))
    assert running_programs() == {}
