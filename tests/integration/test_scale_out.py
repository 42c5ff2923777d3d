"""test_scale_out.py - ingress scaled out across hosts (issue 12): two
simulated hosts in network namespaces this test makes (`ip netns` + veth,
addresses of the benchmarking range 198.18.0.0/15, inside the namespaces
only): authd, telemetryd and logd on host B over tcp:// with CURVE; on
host A two ingressd instances sharing one port (SO_REUSEPORT) and one on a
port of its own; the test reaches host A through a third veth.

- a token session made through one ingress works through the other, and
  once logged out through that one, is dead through the first;
- both instances behind the shared port take connections;
- an ingress whose CURVE key is not on the backends' allow-list gets
  nothing: /healthz 503 with every backend down, the API 503.
"""

import os
import shutil
import subprocess
import time
import uuid

import pytest
import requests

import sembark
from sembark import curve_keygen, write_0600

B_ADDR, A_ADDR = "198.18.0.1", "198.18.0.2"      # the two hosts' link
ROOT_ADDR, A_FRONT = "198.18.1.1", "198.18.1.2"  # the test's way to host A
SHARED_PORT, OWN_PORT = 8080, 8081

pytestmark = pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("ip"),
                                reason="needs root and iproute2 for network namespaces")


def ip(*args):
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=30)


@pytest.fixture
def hosts():
    """Namespaces A and B, linked; host A reachable from here. Removed after."""
    tag = uuid.uuid4().hex[:6]
    a, b = "sbk-a-" + tag, "sbk-b-" + tag
    ab_a, ab_b, ra_r, ra_a = "sa%s" % tag, "sb%s" % tag, "sr%s" % tag, "sf%s" % tag
    ip("netns", "add", a)
    ip("netns", "add", b)
    try:
        ip("link", "add", ab_a, "type", "veth", "peer", "name", ab_b)
        ip("link", "set", ab_a, "netns", a)
        ip("link", "set", ab_b, "netns", b)
        ip("link", "add", ra_r, "type", "veth", "peer", "name", ra_a)
        ip("link", "set", ra_a, "netns", a)
        ip("-n", a, "addr", "add", A_ADDR + "/30", "dev", ab_a)
        ip("-n", b, "addr", "add", B_ADDR + "/30", "dev", ab_b)
        ip("-n", a, "addr", "add", A_FRONT + "/30", "dev", ra_a)
        ip("addr", "add", ROOT_ADDR + "/30", "dev", ra_r)
        for ns, dev in ((a, ab_a), (b, ab_b), (a, ra_a), (a, "lo"), (b, "lo")):
            ip("-n", ns, "link", "set", dev, "up")
        ip("link", "set", ra_r, "up")
        yield a, b
    finally:
        for ns in (a, b):  # their veths go with them
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=30)


def curve_ipc(tmp_path):
    return sembark.curve_ipc(tmp_path, {
        name: "tcp://%s:%d" % (B_ADDR, port)
        for name, port in (("authd", 17001), ("telemetryd", 17002), ("logd", 17003),
                           ("log_sink", 17004))})


def start_ingress(stack, name, ns, port, config=None, healthy=True):
    d = stack.add_ingress(name, config=dict({"ingress": {"listen": "%s:%d" % (A_FRONT, port),
                                                          "public_origin": stack.origin}},
                                            **(config or {})), start=False)
    d.prefix = ["ip", "netns", "exec", ns]
    d.port = port
    stack.start(name)
    url = stack.ingress_url(name)
    if healthy:  # its connections to host B are up
        sembark.wait_until(lambda: get(url + "/healthz").status_code == 200, 10, interval=0.1,
                           what="/healthz 200 from %s" % name)
    return url


def get(url, token=None):
    h = {"Connection": "close"}
    if token:
        h["Authorization"] = "Bearer " + token
    with requests.Session() as s:
        s.trust_env = False
        return s.get(url, headers=h, timeout=10)


def test_ingress_scaled_out_across_hosts(hosts, make_stack, tmp_path):
    ns_a, ns_b = hosts
    ipc = curve_ipc(tmp_path)
    config = {"ipc": ipc, "ingress": {"listen": "%s:%d" % (A_FRONT, SHARED_PORT),
                                      "public_origin": "http://%s:%d" % (A_FRONT, SHARED_PORT),
                                      "reuse_port": "true"}}
    stack = make_stack(config=config, start=False, host=A_FRONT, port=SHARED_PORT)
    for name in ("logd", "authd", "telemetryd"):
        stack.daemons[name].prefix = ["ip", "netns", "exec", ns_b]
        stack.start(name)
    stack.daemons["ingressd"].prefix = ["ip", "netns", "exec", ns_a]
    stack.start("ingressd")
    stack.wait_healthy()
    shared2 = start_ingress(stack, "ingressd2", ns_a, SHARED_PORT)  # the same port, SO_REUSEPORT
    own = start_ingress(stack, "ingressd3", ns_a, OWN_PORT)
    assert shared2 == stack.origin

    # a session made through one ingress lives and dies through the other
    from client import Browser, post_token
    owner = Browser(stack.origin)
    owner.signup()
    r = post_token(own, owner.email, owner.password, "scale-out")
    assert r.status_code == 201, r.text
    token = r.json()["token"]
    assert get(stack.origin + "/api/me", token).status_code == 200
    assert get(own + "/api/me", token).json()["user"]["id"] == owner.user["id"]
    with requests.Session() as s:
        s.trust_env = False
        r = s.post(own + "/api/logout", headers={"Authorization": "Bearer " + token}, timeout=10)
    assert r.status_code == 204, r.text
    for url in (stack.origin, own):
        assert get(url + "/api/me", token).status_code == 401

    # both processes on the shared port take connections (the kernel spreads them)
    for _ in range(60):
        assert get(stack.origin + "/healthz").status_code == 200
    for name in ("ingressd", "ingressd2"):
        served = stack.stderr(name).count('route=/healthz status=200')
        assert served > 0, "%s took no connection on the shared port" % name

    # an ingress whose key is not on the allow-list gets nothing
    stranger_pub, stranger_sec = curve_keygen()
    stranger = start_ingress(stack, "ingressd4", ns_a, OWN_PORT + 1, healthy=False, config={"ipc": {
        "curve_client_public_key": stranger_pub,
        "curve_client_secret_file": write_0600(str(tmp_path / "stranger.key"), stranger_sec + "\n")}})
    time.sleep(1.5)  # time enough for a handshake that would be let in
    r = get(stranger + "/healthz")
    assert r.status_code == 503, r.text
    assert r.json()["services"] == {"authd": "down", "telemetryd": "down", "logd": "down"}
    r = post_token(stranger, owner.email, owner.password, "stranger")
    assert r.status_code == 503 and r.json()["error"] == "service_unavailable", r.text
