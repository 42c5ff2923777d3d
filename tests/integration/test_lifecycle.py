"""test_lifecycle.py - how each daemon starts and stops: READY=1 and STATUS= on
NOTIFY_SOCKET, STOPPING=1 and exit 0 on SIGTERM/SIGINT, a request in flight
at SIGTERM still answered, --check-config on good and bad files and
environment overrides (a misspelt key refused with the nearest one, a
variable of no section passed with a warning), WATCHDOG=1 at the interval WATCHDOG_USEC asks for."""

import os
import signal
import subprocess
import threading
import time

import pytest

import sembark

DAEMONS = sembark.DAEMONS


def run_bin(name, *args, env=None, timeout=30):
    return subprocess.run(sembark.command(name, *args), capture_output=True, text=True,
                          env=sembark.clean_env(env), timeout=timeout * sembark.SLOW, cwd="/",
                          stdin=subprocess.DEVNULL)


@pytest.mark.parametrize("name", DAEMONS)
def test_ready_status_stopping(stack, name):
    d = stack.daemons[name]
    ready = d.notify.find("READY", "1", pid=d.pid, since=d.mark)
    assert ready, "no READY=1 from sembark-%s" % name
    assert d.notify.find("STATUS", pid=d.pid, since=d.mark), \
        "no STATUS= from sembark-%s: %r" % (name, [m[3] for m in d.notify.messages])
    pid = d.pid
    t0 = time.monotonic()
    rc = stack.stop(name)
    took = time.monotonic() - t0
    assert rc == 0, "sembark-%s exited %d on SIGTERM; stderr:\n%s" % (name, rc, sembark.tail(d.stderr_path))
    assert took < 5, "sembark-%s took %.1fs to stop" % (name, took)
    assert d.notify.find("STOPPING", "1", pid=pid, since=d.mark), \
        "no STOPPING=1 from sembark-%s: %r" % (name, [m[3] for m in d.notify.messages])


def test_sigint_stops_everything_cleanly(stack):
    for name in reversed(DAEMONS):
        rc = stack.stop(name, sig=signal.SIGINT)
        assert rc == 0, "sembark-%s exited %d on SIGINT" % (name, rc)


def test_inflight_request_answered_at_sigterm(stack):
    """authd is stopped (SIGSTOP) so /healthz waits for it; ingressd gets
    SIGTERM meanwhile; the request still gets a whole answer and ingressd
    exits 0 afterwards."""
    result = {}

    def call():
        try:
            result["r"] = stack.health(timeout=15)
        except Exception as e:  # noqa: BLE001 - asserted below
            result["e"] = e

    stack.send_signal("authd", signal.SIGSTOP)
    try:
        t = threading.Thread(target=call)
        t.start()
        time.sleep(0.3)
        stack.send_signal("ingressd", signal.SIGTERM)
        time.sleep(0.2)
    finally:
        stack.send_signal("authd", signal.SIGCONT)
    t.join(20)
    assert not t.is_alive(), "request still hanging"
    assert "e" not in result, "in-flight request failed: %r" % result.get("e")
    st, body, dt = result["r"]
    assert st in (200, 503), (st, body)
    assert isinstance(body, dict) and "services" in body, body
    rc = stack.wait_exit("ingressd")
    assert rc == 0, "ingressd exited %d after SIGTERM with a request in flight" % rc


def test_new_connections_refused_after_sigterm(stack):
    stack.send_signal("ingressd", signal.SIGTERM)
    assert stack.wait_exit("ingressd") == 0
    with pytest.raises(OSError):
        sembark.raw_connect(stack.port, timeout=2).close()


# ---- --check-config and argv -------------------------------------------------------

@pytest.fixture
def conf_dir(base_dir, request):
    d = os.path.join(base_dir, "cc-" + request.node.name.replace("[", "-").replace("]", ""))
    os.makedirs(d, exist_ok=True)
    return d


def write_conf(pg, sec, d, extra=None, append=""):
    path = os.path.join(d, "sembark.conf")
    with open(path, "w") as f:
        f.write(sembark.config_text(pg, sec, 18080, os.path.join(d, "run"), extra) + append)
    return path


@pytest.mark.parametrize("name", DAEMONS)
def test_check_config_good(pg, sec, migrated, conf_dir, name):
    cfg = write_conf(pg, sec, conf_dir)
    r = run_bin(name, "--config", cfg, "--check-config")
    assert r.returncode == 0, (r.returncode, r.stdout, r.stderr)


@pytest.mark.parametrize("name", DAEMONS)
def test_check_config_bad_value(pg, sec, migrated, conf_dir, name):
    cfg = write_conf(pg, sec, conf_dir, {"auth": {"bcrypt_cost": "99"}})
    r = run_bin(name, "--config", cfg, "--check-config")
    assert r.returncode != 0, (r.stdout, r.stderr)
    assert "bcrypt_cost" in (r.stdout + r.stderr), (r.stdout, r.stderr)


@pytest.mark.parametrize("name", DAEMONS)
def test_check_config_unknown_key(pg, sec, migrated, conf_dir, name):
    cfg = write_conf(pg, sec, conf_dir, {"ingress": {"frobnicate": "1"}})
    r = run_bin(name, "--config", cfg, "--check-config")
    assert r.returncode != 0, (r.stdout, r.stderr)
    assert "frobnicate" in (r.stdout + r.stderr), (r.stdout, r.stderr)


@pytest.mark.parametrize("extra,word", [
    ({"nosuchsection": {"key": "1"}}, "nosuchsection"),
    ({"ingress": {"listen": "127.0.0.1:99999"}}, "listen"),
    ({"ingress": {"public_origin": "ftp://x/"}}, "public_origin"),
    ({"logs": {"level": "chatty"}}, "level"),
    ({"ingress": {"max_body": "12abc"}}, "max_body"),
    ({"ipc": {"authd": "/run/x.sock"}}, "authd"),
], ids=["section", "port", "origin", "enum", "int-junk", "endpoint"])
def test_check_config_bad_values_named(pg, sec, migrated, conf_dir, extra, word):
    cfg = write_conf(pg, sec, conf_dir, extra)
    r = run_bin("ingressd", "--config", cfg, "--check-config")
    assert r.returncode != 0, (r.stdout, r.stderr)
    assert word in (r.stdout + r.stderr), (r.stdout, r.stderr)


def test_check_config_missing_file(base_dir):
    r = run_bin("ingressd", "--config", os.path.join(base_dir, "no-such.conf"), "--check-config")
    assert r.returncode != 0, (r.stdout, r.stderr)


@pytest.mark.parametrize("name", DAEMONS)
def test_env_override_rejected(pg, sec, migrated, conf_dir, name):
    cfg = write_conf(pg, sec, conf_dir)
    r = run_bin(name, "--config", cfg, "--check-config", env={"SEMBARK_AUTH_BCRYPT_COST": "99"})
    assert r.returncode != 0, (r.stdout, r.stderr)
    assert "bcrypt_cost" in (r.stdout + r.stderr).lower(), (r.stdout, r.stderr)


def test_env_unknown_variable_rejected(pg, sec, migrated, conf_dir):
    cfg = write_conf(pg, sec, conf_dir)
    r = run_bin("authd", "--config", cfg, "--check-config", env={"SEMBARK_AUTH_NO_SUCH_KEY": "1"})
    assert r.returncode != 0, (r.stdout, r.stderr)
    assert "no_such_key" in (r.stdout + r.stderr).lower(), (r.stdout, r.stderr)


def test_env_misspelt_key_names_nearest(pg, sec, migrated, conf_dir):
    cfg = write_conf(pg, sec, conf_dir)
    r = run_bin("authd", "--config", cfg, "--check-config",
                env={"SEMBARK_AUTH_SESION_LIFETIME": "60"})
    assert r.returncode != 0, (r.stdout, r.stderr)
    assert "did you mean SEMBARK_AUTH_SESSION_LIFETIME?" in r.stderr, r.stderr


def ignored_env_warnings(text, name):
    return [l for l in text.splitlines()
            if "level=warning" in l and "names no config section" in l and "name=%s" % name in l]


@pytest.mark.parametrize("name", DAEMONS)
def test_env_variable_of_no_section_warned(pg, sec, migrated, conf_dir, name):
    """SEMBARK_* variables that name no section pass, each with one warning."""
    cfg = write_conf(pg, sec, conf_dir)
    r = run_bin(name, "--config", cfg, "--check-config",
                env={"SEMBARK_URL": "https://accounts.example.com", "SEMBARK_FOO_BAR": "1"})
    assert r.returncode == 0, (r.stdout, r.stderr)
    assert len(ignored_env_warnings(r.stderr, "SEMBARK_URL")) == 1, r.stderr
    assert len(ignored_env_warnings(r.stderr, "SEMBARK_FOO_BAR")) == 1, r.stderr


def test_started_daemon_warns_of_foreign_env_once(make_stack):
    s = make_stack(start=False, daemon_env={"logd": {"SEMBARK_URL": "https://a.example.com"}})
    s.start("logd")
    assert len(ignored_env_warnings(s.stderr("logd"), "SEMBARK_URL")) == 1, s.stderr("logd")


def test_bad_config_stops_startup(make_stack):
    """A daemon started (not --check-config) with a bad value exits non-zero
    before READY=1."""
    s = make_stack(start=False, env={"SEMBARK_INGRESS_MAX_BODY": "1"})
    s.start("ingressd", wait_ready=False)
    rc = s.wait_exit("ingressd", timeout=10)
    assert rc not in (0, None), rc
    d = s.daemons["ingressd"]
    assert not d.notify.find("READY", "1"), "READY=1 sent despite a bad config"
    assert "max_body" in s.stderr("ingressd"), s.stderr("ingressd")


def _version():
    with open(os.path.join(sembark.REPO_ROOT, "VERSION"), encoding="utf-8") as f:
        return f.read().strip()


@pytest.mark.parametrize("name", DAEMONS + ("ctl",))
def test_version_and_help(name):
    """--version prints "<program> <VERSION>", --help a usage naming every common option;
    both on stdout, exit 0, before any configuration is read (a missing file is no
    obstacle)."""
    prog = os.path.basename(sembark.binary(name))
    env = {"SEMBARK_CONFIG": "/nonexistent/sembark.conf"}
    for flag in ("--version", "--help", "-h"):
        r = run_bin(name, flag, env=env)
        assert r.returncode == 0, (flag, r.returncode, r.stdout, r.stderr)
        assert r.stderr == "", (flag, r.stderr)
        if flag == "--version":
            assert r.stdout == "%s %s\n" % (prog, _version()), r.stdout
        else:
            assert r.stdout.startswith("Usage: %s " % prog), r.stdout
            for opt in ("--config PATH", "--help", "--version"):
                assert opt in r.stdout, (flag, opt, r.stdout)


@pytest.mark.parametrize("name", DAEMONS)
def test_unknown_option(name):
    r = run_bin(name, "--no-such-option")
    assert r.returncode != 0, (r.stdout, r.stderr)


# ---- watchdog ----------------------------------------------------------------------------

def test_watchdog_pings(make_stack):
    s = make_stack(env={"WATCHDOG_USEC": "400000"})
    t0 = time.monotonic()
    marks = {n: s.daemons[n].notify.mark() for n in DAEMONS}
    time.sleep(1.3)
    for n in DAEMONS:
        d = s.daemons[n]
        pings = d.notify.find("WATCHDOG", "1", pid=d.pid, since=marks[n])
        # 0.4 s interval, pinged at half of it: about 6 in 1.3 s; ask for 3
        assert len(pings) >= 3, "sembark-%s sent %d WATCHDOG=1 in %.1fs with WATCHDOG_USEC=400000" % (
            n, len(pings), time.monotonic() - t0)
        times = [m[0] for m in pings]
        gaps = [b - a for a, b in zip(times, times[1:])]
        assert max(gaps) < 0.5, "gap of %.2fs between pings of %s" % (max(gaps), n)


def test_watchdog_for_another_pid_is_ignored(make_stack):
    s = make_stack(start=False, env={"WATCHDOG_USEC": "400000", "WATCHDOG_PID": "1"})
    s.start("logd")
    mark = s.daemons["logd"].notify.mark()
    time.sleep(0.8)
    assert not s.daemons["logd"].notify.find("WATCHDOG", "1", since=mark), \
        "WATCHDOG=1 sent although WATCHDOG_PID names another process"
