"""test_metrics.py - Prometheus metrics on ingressd's admin listener ([ingress] metrics_listen).

A stack with the listener on a free loopback port takes real traffic (a team signs up and logs
in, telemetry is sent, a path that does not exist is asked for); then GET /metrics there must be
text that Debian's `promtool check metrics` accepts, holding the numbers of that traffic from all
four daemons: answers by route and status with their durations, backend round trips, the hash
pool's wait and work, telemetry batch sizes and commit times, logd's queues, drops and retention
runs, and each pool's PostgreSQL statements by outcome. The public port never serves /metrics;
the admin listener serves nothing else; with logd stopped a scrape still answers at once and says
logd is down; the text names no address, token or email. A metrics_listen equal to the public
listen is refused at start. Started the way systemd starts it (sockets passed by name), ingressd
serves metrics on the socket named "metrics" and binds nothing itself, or serves none."""

import os
import re
import shutil
import socket
import subprocess
import sys
import time

import pytest
import requests

import sembark
from client import Browser
from telemetry_client import batch, event, post_events

PROMTOOL = shutil.which("promtool")
VERSION = open(os.path.join(os.path.dirname(__file__), "..", "..", "VERSION")).read().strip()
pytestmark = pytest.mark.skipif(PROMTOOL is None, reason="promtool (Debian prometheus) missing")


def scrape(url, timeout=5):
    r = requests.get(url, timeout=timeout, proxies={"http": None})
    return r


def samples(text):
    """{(name, frozenset(labels.items())): value} of every sample line."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = re.match(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$', line)
        assert m, "not a sample line: %r" % line
        labels = dict(re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"', m.group(2) or ""))
        out[(m.group(1), frozenset(labels.items()))] = float(m.group(3))
    return out


def value(s, name, **labels):
    key = (name, frozenset(labels.items()))
    assert key in s, "no sample %s%r among %d" % (name, labels, len(s))
    return s[key]


def promtool_ok(text):
    r = subprocess.run([PROMTOOL, "check", "metrics"], input=text, capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0, "promtool check metrics:\n%s%s" % (r.stdout, r.stderr)


@pytest.fixture(scope="module")
def mstack(make_shared_stack):
    port = sembark.free_port()
    s = make_shared_stack(config={"ingress": {"metrics_listen": "127.0.0.1:%d" % port}})
    s.metrics_url = "http://127.0.0.1:%d/metrics" % port
    return s


def test_metrics_of_real_traffic(mstack):
    owner = Browser(mstack)
    owner.signup()
    owner.logout()
    owner.login()
    assert owner.get("/api/me").status_code == 200
    r = post_events(owner, batch([event(), event("error", attrs={"code": "E1"})]))
    assert r.status_code == 202 and r.json()["accepted"] == 2, r.text
    assert owner.get("/api/no-such-thing").status_code == 404
    mstack.http.get(mstack.url("/healthz"), timeout=5)

    r = scrape(mstack.metrics_url)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    text = r.text
    promtool_ok(text)
    s = samples(text)

    # ingressd: answers by route, method and status, durations, connections, backends
    assert value(s, "sembark_ingress_http_requests_total",
                 route="/api/login", method="POST", status="200") >= 1
    assert value(s, "sembark_ingress_http_requests_total",
                 route="/api/telemetry/events", method="POST", status="202") >= 1
    assert value(s, "sembark_ingress_http_requests_total",
                 route="none", method="other", status="404") >= 1
    assert value(s, "sembark_ingress_http_request_duration_seconds_count",
                 route="/api/me", method="GET") >= 1
    assert value(s, "sembark_ingress_connections_accepted_total") >= 1
    for b in ("authd", "telemetryd", "logd"):
        assert value(s, "sembark_ingress_scrape_backend_up", backend=b) == 1
        assert value(s, "sembark_ingress_backend_calls_total", backend=b, result="reply") >= 1
        assert value(s, "sembark_ingress_backend_rtt_seconds_count", backend=b) >= 1
        assert value(s, "sembark_%s_db_up" % b) == 1
        assert value(s, "sembark_%s_db_queries_total" % b, result="ok") >= 1
        assert value(s, "sembark_%s_db_query_seconds_count" % b) >= 1
        assert value(s, "sembark_%s_build_info" % b, version=VERSION) == 1
    # authd: the hash pool (sign-up hashed, login checked)
    assert value(s, "sembark_authd_hash_jobs_total", result="done") >= 2
    assert value(s, "sembark_authd_hash_work_seconds_count") >= 2
    assert value(s, "sembark_authd_hash_wait_seconds_count") >= 2
    # telemetryd: the batch of two and the sign-in signals were committed
    assert value(s, "sembark_telemetryd_batches_total", result="committed") >= 1
    assert value(s, "sembark_telemetryd_events_stored_total") >= 2
    assert value(s, "sembark_telemetryd_batch_events_count") >= 1
    assert value(s, "sembark_telemetryd_commit_seconds_count") >= 1
    # logd: queues, drops, retention (it runs once at start)
    assert value(s, "sembark_logd_buffered", stream="logs") >= 0
    assert value(s, "sembark_logd_dropped_total", stream="audit") == 0
    sembark.wait_until(lambda: value(samples(scrape(mstack.metrics_url).text),
                                     "sembark_logd_retention_runs_total", result="ok") >= 1,
                       timeout=20, what="a retention run")

    # nothing of who: no address, email, token or cookie
    assert not re.search(r"\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\b", text)
    assert "@" not in text and not re.search(r"[0-9a-f]{40}", text)


def test_only_on_the_admin_listener(mstack):
    r = mstack.http.get(mstack.url("/metrics"), timeout=5)
    assert r.status_code == 404 and "sembark_" not in r.text
    base = mstack.metrics_url[:-len("/metrics")]
    r = requests.get(base + "/healthz", timeout=5, proxies={"http": None})
    assert r.status_code == 404
    r = requests.post(mstack.metrics_url, data=b"", timeout=5, proxies={"http": None})
    assert r.status_code == 405 and "GET" in r.headers["Allow"]
    r = requests.head(mstack.metrics_url, timeout=5, proxies={"http": None})
    assert r.status_code == 200


def test_a_stopped_backend_is_reported_quickly(mstack):
    mstack.stop("logd")
    try:
        t0 = time.monotonic()
        r = scrape(mstack.metrics_url)
        took = time.monotonic() - t0
        assert r.status_code == 200
        s = samples(r.text)
        assert value(s, "sembark_ingress_scrape_backend_up", backend="logd") == 0
        assert value(s, "sembark_ingress_scrape_backend_up", backend="authd") == 1
        assert not any(name.startswith("sembark_logd_") for name, _ in s)
        promtool_ok(r.text)
        assert took < 5, took  # health_timeout_ms (1 s) bounds it; generous for a loaded machine
    finally:
        mstack.start("logd")
        mstack.wait_healthy()


def test_metrics_listen_must_not_be_the_public_address(make_stack):
    port = sembark.free_port()
    st = make_stack(config={"ingress": {"metrics_listen": "127.0.0.1:%d" % port,
                                        "listen": "127.0.0.1:%d" % port}}, start=False, port=port)
    st.start("ingressd", wait_ready=False)
    rc = st.wait_exit("ingressd")
    assert rc != 0
    assert "[ingress] metrics_listen must not be the public address" in \
        open(st.daemons["ingressd"].stderr_path).read()


# Socket activation as systemd does it (sd_listen_fds_with_names): bind the named sockets,
# put them at fd 3, 4, ... and exec the daemon with LISTEN_FDS/LISTEN_PID/LISTEN_FDNAMES.
ACTIVATE = r'''
import fcntl, os, socket, sys
names, ports, argv = sys.argv[1], sys.argv[2].split(":"), sys.argv[3:]
socks, high = [], []
for port in ports:
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", int(port)))
    s.listen(64)
    socks.append(s)  # kept open until exec
    high.append(fcntl.fcntl(s.fileno(), fcntl.F_DUPFD, 100))
for i, fd in enumerate(high):
    os.dup2(fd, 3 + i)
    os.set_inheritable(3 + i, True)
os.environ.update(LISTEN_FDS=str(len(ports)), LISTEN_PID=str(os.getpid()), LISTEN_FDNAMES=names)
os.execv(argv[0], argv)
'''


def activated_ingress(stack, name, names, metrics_port=None):
    """A second ingressd of stack whose sockets come as systemd passes them; its config's
    metrics_listen is another free port, which it must not bind."""
    unused = sembark.free_port()
    stack.add_ingress(name, config={"ingress": {"metrics_listen": "127.0.0.1:%d" % unused}},
                      start=False)
    d = stack.daemons[name]
    ports = [str(d.port)] + ([str(metrics_port)] if metrics_port else [])
    d.prefix = [sys.executable, "-c", ACTIVATE, names, ":".join(ports)]
    stack.start(name)
    base = stack.ingress_url(name)
    sembark.wait_until(lambda: requests.get(base + "/healthz", timeout=5,
                                            proxies={"http": None}).status_code == 200,
                       timeout=15, what="the activated ingress healthy")
    return unused


def refused(port):
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


def test_sockets_passed_by_systemd(mstack):
    mport = sembark.free_port()
    unused = activated_ingress(mstack, "ingressd-sd", "http:metrics", mport)
    try:
        r = scrape("http://127.0.0.1:%d/metrics" % mport)
        assert r.status_code == 200
        s = samples(r.text)
        assert value(s, "sembark_ingress_http_requests_total",
                     route="/healthz", method="GET", status="200") >= 1
        promtool_ok(r.text)
        assert refused(unused)  # metrics_listen is not bound when systemd passes the sockets
    finally:
        mstack.stop("ingressd-sd")


def test_no_metrics_socket_passed(mstack):
    unused = activated_ingress(mstack, "ingressd-sd2", "http")
    try:
        assert refused(unused)
        err = open(mstack.daemons["ingressd-sd2"].stderr_path).read()
        assert 'no metrics listener: systemd passed no socket named \\"metrics\\"' in err, err
    finally:
        mstack.stop("ingressd-sd2")
