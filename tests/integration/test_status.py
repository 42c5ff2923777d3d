"""test_status.py - `sembarkctl status` against a real stack: every backend's health,
version and queue depths from its pong and ingressd's GET /healthz, exit 0 when all are up;
a daemon stopped (or the database unreachable) makes it exit 1 and say which, within the
2 s deadline."""
import os
import re
import shutil
import time

import pytest

import sembark
from test_tls import make_cert, tls_extra

BACKENDS = sembark.BACKENDS
QUEUES = {
    "authd": {"db_queued", "hash_pending"},
    "telemetryd": {"db_queued", "batch_events", "batches_inflight"},
    "logd": {"db_queued", "logs_buffered", "logs_dropped", "audit_buffered", "audit_dropped"},
}


def _version():
    with open(os.path.join(sembark.REPO_ROOT, "VERSION"), encoding="utf-8") as f:
        return f.read().strip()


def _rows(stdout):
    """{service: [columns...]} of status's table."""
    rows = {}
    for line in stdout.splitlines():
        cols = line.split()
        if cols and cols[0] in BACKENDS + ("ingressd",):
            rows[cols[0]] = cols
    return rows


def _queues(cols):
    return dict(c.split("=", 1) for c in cols[6:] if "=" in c)


def test_status_all_up(stack):
    r = sembark.run_ctl(stack.config, "status")
    assert r.returncode == 0, (r.returncode, r.stdout, r.stderr)
    assert r.stdout.startswith("SERVICE "), r.stdout
    rows = _rows(r.stdout)
    assert set(rows) == set(BACKENDS + ("ingressd",)), r.stdout
    assert rows.pop("ingressd")[1] == "up" and "GET /healthz: 200 (http://" in r.stdout, r.stdout
    for name, cols in rows.items():
        assert cols[1:4] == ["up", "ok", _version()], cols
        assert int(cols[4]) == stack.pid(name), (cols, stack.pid(name))
        assert int(cols[5]) >= 0, cols
        queues = _queues(cols)
        assert set(queues) == QUEUES[name], (name, queues)
        assert all(re.fullmatch(r"\d+", v) for v in queues.values()), queues


def test_status_one_daemon_stopped(stack):
    stack.stop("telemetryd")
    t0 = time.monotonic()
    r = sembark.run_ctl(stack.config, "status")
    took = time.monotonic() - t0
    assert r.returncode == 1, (r.returncode, r.stdout, r.stderr)
    rows = _rows(r.stdout)
    assert rows["telemetryd"][1] == "down", r.stdout
    assert "no answer within 2 s" in r.stdout, r.stdout
    assert rows["authd"][1:3] == ["up", "ok"] and rows["logd"][1:3] == ["up", "ok"], r.stdout
    assert "GET /healthz: 503" in r.stdout, r.stdout  # ingressd up, its /healthz red
    # the three pings go out at once, each with a 2 s deadline
    assert took < 2 + 1.5 * sembark.SLOW, took
    stack.start("telemetryd")
    # READY comes before its database connection and before ingressd's next health check
    sembark.wait_until(lambda: sembark.run_ctl(stack.config, "status").returncode == 0,
                       10 * sembark.SLOW, interval=0.2, what="sembarkctl status 0 again")


def test_status_ingress_stopped(stack):
    stack.stop("ingressd")
    r = sembark.run_ctl(stack.config, "status")
    assert r.returncode == 1, (r.returncode, r.stdout, r.stderr)
    rows = _rows(r.stdout)
    assert rows["ingressd"][1] == "down", r.stdout
    assert all(rows[n][1:3] == ["up", "ok"] for n in BACKENDS), r.stdout
    stack.start("ingressd")


def test_status_ingress_over_tls(make_stack, pg, sec, tmp_path):
    """With [ingress] tls_cert_file set, /healthz is asked over TLS."""
    if not shutil.which("openssl"):
        pytest.skip("no openssl CLI")
    cert, key = make_cert(str(tmp_path))
    st = make_stack(start=False)
    with open(st.config, "w") as f:  # the https origin needs the stack's port
        f.write(sembark.config_text(pg, sec, st.port, st.rundir, tls_extra(cert, key, st.port)))
    for n in sembark.DAEMONS:
        st.start(n)
    sembark.wait_until(lambda: sembark.run_ctl(st.config, "status").returncode == 0, 30,
                       interval=0.2, what="sembarkctl status green over TLS")
    r = sembark.run_ctl(st.config, "status")
    assert r.returncode == 0, (r.returncode, r.stdout, r.stderr)
    assert "GET /healthz: 200 (https://" in r.stdout, r.stdout


def test_status_database_down(stack, pg):
    """Every daemon answers, but none reaches PostgreSQL: each says so, exit 1."""
    pg.stop()
    try:
        r = sembark.run_ctl(stack.config, "status")
    finally:
        pg.start()
    assert r.returncode == 1, (r.returncode, r.stdout, r.stderr)
    rows = _rows(r.stdout)
    for name in BACKENDS:
        assert rows[name][1:3] == ["up", "down"], r.stdout
    sembark.wait_until(lambda: sembark.run_ctl(stack.config, "status").returncode == 0, 15,
                       what="status green again after PostgreSQL came back")


def test_status_over_tcp_with_curve(make_stack, tmp_path):
    """tcp:// endpoints: sembarkctl status connects with CURVE like any client."""
    endpoints = {name: "tcp://127.0.0.1:%d" % sembark.free_port()
                 for name in ("authd", "telemetryd", "logd", "log_sink")}
    stack = make_stack(config={"ipc": sembark.curve_ipc(tmp_path, endpoints)})
    r = sembark.run_ctl(stack.config, "status")
    assert r.returncode == 0, (r.returncode, r.stdout, r.stderr)
    assert set(_rows(r.stdout)) == set(BACKENDS + ("ingressd",)), r.stdout


def test_status_takes_no_argument(stack):
    r = sembark.run_ctl(stack.config, "status", "--now")
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
