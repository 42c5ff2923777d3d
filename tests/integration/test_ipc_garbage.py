"""test_ipc_garbage.py - a less-trusted peer sends garbage over ZeroMQ:
truncated, oversized, wrongly typed and hostile msgpack frames to the
backends' ROUTER sockets and to logd's PULL socket. Every daemon stays up,
/healthz stays 200, an invalid envelope is answered with an "error" of code
"bad_message" (rpc.h), and a valid request afterwards still works."""

import os
import time

import pytest

import sembark
from sembark import IPC_VERSION

pytestmark = pytest.mark.skipif(not sembark.have_zmq(), reason="python3-zmq/python3-msgpack not installed")

if sembark.have_zmq():
    import msgpack
else:  # pragma: no cover
    msgpack = None


def pack(obj):
    return msgpack.packb(obj, use_bin_type=True)


def env(type_="ping", body=None, id_=7, v=None, **extra):
    m = {"v": IPC_VERSION if v is None else v, "type": type_, "id": id_, "body": {} if body is None else body}
    m.update(extra)
    return m


def deep(n):
    return b"\x91" * n + b"\xc0"  # n nested one-element arrays around nil


def garbage_frames():
    """(name, frame bytes) of invalid envelopes; each must be survived."""
    ping = pack(env())
    frames = [
        ("empty", b""),
        ("one byte", b"\xc1"),  # never-used msgpack byte
        ("random", os.urandom(1000)),
        ("text", b"GET / HTTP/1.1\r\n\r\n"),
        ("list", pack([1, 2, 3])),
        ("int", pack(5)),
        ("nil", pack(None)),
        ("missing id", pack({"v": IPC_VERSION, "type": "ping", "body": {}})),
        ("missing body", pack({"v": IPC_VERSION, "type": "ping", "id": 1})),
        ("extra key", pack(env(extra=1))),
        ("v=next", pack(env(v=IPC_VERSION + 1))),
        ("v string", pack(env(v="1"))),
        ("id string", pack(env(id_="x"))),
        ("id negative", pack(env(id_=-1))),
        ("id float", pack(env(id_=1.5))),
        ("id huge", pack({"v": IPC_VERSION, "type": "ping", "id": 2 ** 64 - 1, "body": []})),
        ("type int", pack(env(type_=3))),
        ("type unknown", pack(env(type_="no.such.type"))),
        ("type long", pack(env(type_="p" * 100000))),
        ("type bin", pack({"v": IPC_VERSION, "type": b"ping", "id": 1, "body": {}})),
        ("type with NUL", pack(env(type_="ping\x00"))),
        ("body list", pack(env(body=[]))),
        ("body unknown field", pack(env(body={"x": 1}))),
        ("keys int", pack({1: 1, 2: "ping", 3: 1, 4: {}})),
        ("duplicate keys", b"\x85" + pack("v") + pack(IPC_VERSION) + pack("type") + pack("ping") + pack("id") + pack(1)
         + pack("body") + b"\x80" + pack("v") + pack(IPC_VERSION)),
        ("trailing bytes", ping + b"\x00"),
        ("two envelopes", ping + ping),
        ("truncated", ping[:-3]),
        ("deep nesting", b"\x84" + pack("v") + pack(IPC_VERSION) + pack("type") + pack("ping") + pack("id") + pack(1)
         + pack("body") + deep(100000)),
        ("map32 4G entries", b"\xdf\xff\xff\xff\xff"),
        ("array32 4G entries", b"\xdd\xff\xff\xff\xff"),
        ("str32 4G", b"\xdb\xff\xff\xff\xff" + b"a" * 10),
        ("bin32 4G", b"\xc6\xff\xff\xff\xff" + b"a" * 10),
        ("ext", b"\xc7\x03\x01abc"),
        ("envelope map32 4G", b"\xdf\xff\xff\xff\xff\xa1v\x01"),
        ("body map32 4G", b"\x84\xa1v\x01\xa4type\xa4ping\xa2id\x01\xa4body\xdf\xff\xff\xff\xff"),
        ("log.record to a ROUTER", pack(env("log.record", sembark.log_record_body("x")))),
        ("pong to a ROUTER", pack(env("pong", {"service": "x", "database": True, "pid": 1,
                                               "uptime_s": 1, "version": "0", "queues": {}}))),
        ("error to a ROUTER", pack(env("error", {"code": "x", "message": "y"}))),
    ]
    return frames


def test_garbage_frames_are_distinct():
    names = [n for n, _ in garbage_frames()]
    assert len(names) == len(set(names))


def ping_ok(dealer, id_):
    """Send a valid ping; wait for its pong, skipping earlier error replies."""
    dealer.send(pack(env(id_=id_)))
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        frames = dealer.recv(timeout=max(0.05, deadline - time.monotonic()))
        if frames is None:
            break
        m = sembark.decode_reply(frames)
        if m.get("id") == id_:
            return m
    return None


def alive(stack):
    for n in sembark.DAEMONS:
        d = stack.daemons[n]
        assert d.running(), "sembark-%s died (exit %s); stderr:\n%s" % (n, d.proc.returncode,
                                                                        sembark.tail(d.stderr_path))
    st, body, dt = stack.health()
    assert st == 200, (st, body)


@pytest.mark.parametrize("target", ["authd", "telemetryd", "logd"])
def test_router_survives_garbage(stack, target):
    ep = sembark.endpoint(stack, target)
    with sembark.Dealer(ep) as d:
        pong = ping_ok(d, 1)
        assert pong is not None, "no pong from %s to a valid ping" % target
        assert pong["type"] == "pong" and pong["v"] == IPC_VERSION, pong
        assert pong["body"].get("service") in (target, "sembark-" + target), pong
        with open(os.path.join(sembark.REPO_ROOT, "VERSION"), encoding="utf-8") as f:
            assert pong["body"].get("version") == f.read().strip(), pong
        assert isinstance(pong["body"].get("queues"), dict), pong
        assert pong["body"]["queues"].get("db_queued") == "0", pong
        garbage = garbage_frames()
        for name, frame in garbage:
            d.send(frame)
        # multi-part shapes are dropped, not answered
        d.send([b"a", b"b", b"c"])
        d.send([b"", pack(env(id_=99))])
        d.send(pack(env(id_=12345)))
        replies = []
        while True:
            frames = d.recv(timeout=3)
            assert frames is not None, "%s stopped answering after garbage (%d replies so far)" % (
                target, len(replies))
            m = sembark.decode_reply(frames)
            if m.get("id") == 12345 and m.get("type") == "pong":
                break
            replies.append(m)
        # every single-frame request got exactly one reply, an error
        assert [m.get("type") for m in replies] == ["error"] * len(garbage), \
            "%d garbage frames, replies: %r" % (len(garbage), replies[:5])
    alive(stack)


@pytest.mark.parametrize("name,frame", [(n, f) for n, f in garbage_frames() if not n.endswith("ROUTER")],
                         ids=[n for n, _ in garbage_frames() if not n.endswith("ROUTER")])
def test_invalid_envelope_gets_bad_message(shared_stack, name, frame):
    with sembark.Dealer(sembark.endpoint(shared_stack, "authd")) as d:
        reply = d.call(frame, timeout=3)
        assert reply is not None, "no reply to %s" % name
        m = sembark.decode_reply(reply)
        assert m.get("type") == "error", m
        assert m.get("body", {}).get("code") == "bad_message", m
        assert ping_ok(d, 777) is not None


@pytest.mark.parametrize("type_", ["log.record", "pong", "error"])
def test_wrong_type_for_peer_gets_bad_message_with_id(shared_stack, type_):
    bodies = {"log.record": sembark.log_record_body("x"),
              "pong": {"service": "x", "database": True, "pid": 1, "uptime_s": 1,
                       "version": "0", "queues": {}},
              "error": {"code": "x", "message": "y"}}
    with sembark.Dealer(sembark.endpoint(shared_stack, "authd")) as d:
        reply = d.call(pack(env(type_, bodies[type_], id_=4242)), timeout=3)
        assert reply is not None, "no reply"
        m = sembark.decode_reply(reply)
        assert m.get("type") == "error" and m.get("id") == 4242, m
        if type_ == "log.record":  # only logd receives it: refused before any handler
            assert m["body"].get("code") == "bad_message", m


def test_oversized_frame_to_router(stack):
    """A frame over [ipc] max_msg_bytes (2 MiB) makes ZeroMQ drop the peer;
    the daemon does not care, and a new connection works."""
    with sembark.Dealer(sembark.endpoint(stack, "authd")) as d:
        d.send(pack(env(body={"pad": "x" * (3 << 20)})))
        time.sleep(0.3)
    with sembark.Dealer(sembark.endpoint(stack, "authd")) as d:
        assert ping_ok(d, 5) is not None
    alive(stack)


def test_many_clients_flood_router(stack):
    """1000 garbage frames from 20 connections at once."""
    dealers = [sembark.Dealer(sembark.endpoint(stack, "telemetryd")) for _ in range(20)]
    try:
        frames = [f for _, f in garbage_frames()][:50]
        for d in dealers:
            for f in frames:
                d.send(f)
        assert ping_ok(dealers[0], 31337) is not None, "telemetryd no longer answers after a flood"
    finally:
        for d in dealers:
            d.close()
    alive(stack)


def bad_log_records(marker):
    ok = sembark.log_record_body
    recs = [
        ("level fatal", ok(marker + "-1", level="fatal")),
        ("level long", ok(marker + "-2", level="x" * 100)),
        ("msg long", ok(marker + "-3" + "m" * 5000)),
        ("40 fields", ok(marker + "-4", fields={"k%d" % i: "v" for i in range(40)})),
        ("field value long", ok(marker + "-5", fields={"k": "v" * 5000})),
        ("field key long", ok(marker + "-6", fields={"k" * 100: "v"})),
        ("time string", dict(ok(marker + "-7"), time_us="now")),
        ("time negative", dict(ok(marker + "-8"), time_us=-1)),
        ("time far future", dict(ok(marker + "-9"), time_us=2 ** 62)),
        ("service long", ok(marker + "-10", service="s" * 100)),
        ("missing msg", {k: v for k, v in ok(marker + "-11").items() if k != "msg"}),
        ("extra field", dict(ok(marker + "-12"), ip="10.0.0.1")),
        ("msg with NUL", ok(marker + "-13\x00after")),
        ("field value map", dict(ok(marker + "-14"), fields={"k": {"a": 1}})),
        ("fields list", dict(ok(marker + "-15"), fields=["a", "b"])),
        ("msg bin", dict(ok(marker + "-16"), msg=(marker + "-16").encode())),
        ("msg int", dict(ok(marker + "-17"), msg=17)),
    ]
    frames = [(n, pack(env("log.record", b, id_=1))) for n, b in recs]
    # use_bin_type=False packs bytes as msgpack str: a str holding invalid UTF-8
    frames.append(("msg invalid utf-8", msgpack.packb(env("log.record", ok(marker.encode() + b"-18\xff\xfe"), id_=1),
                                                      use_bin_type=False)))
    frames.append(("ping to PULL", pack(env())))
    return frames


def test_log_sink_survives_garbage(stack, pg):
    marker = "it-garbage-%d" % int(time.time() * 1000)
    frames = [f for _, f in garbage_frames()] + [f for _, f in bad_log_records(marker)]
    frames.append([b"multi", b"part"])
    frames.append(pack(env("log.record", sembark.log_record_body("x"))) * 2)
    frames.append(pack(env("log.record", {"time_us": 1, "service": "x", "level": "info", "msg": "x",
                                          "fields": {}}, v=IPC_VERSION + 1)))
    good = marker + "-ok"
    frames.append(pack(env("log.record", sembark.log_record_body(good, fields={"n": "1"}))))
    sembark.push_frames(sembark.endpoint(stack, "log"), frames)
    sembark.push_frames(sembark.endpoint(stack, "log"), [pack(env("log.record", sembark.log_record_body(
        "x" * 10, fields={"pad": "y" * 1000})))] * 5 + [b"\x00" * (3 << 20)])
    got = sembark.wait_until(
        lambda: pg.query("SELECT level, service, fields FROM logs WHERE message = %s", (good,)), 10,
        interval=0.2, what="the valid record sent after the garbage in table logs")
    assert got == [("info", "ingressd", {"n": "1"})], got
    alive(stack)
    # whatever was stored of the invalid ones is well-formed
    for level, service, message, fields in pg.query(
            "SELECT level, service, message, fields FROM logs WHERE message LIKE %s", (marker + "%",)):
        assert level in ("debug", "info", "warning", "error"), (level, message)
        assert len(service) <= 32 and service, (service, message)
        assert "\x00" not in message and len(message.encode()) <= 1024 + 3, message[:100]
        assert isinstance(fields, dict) and len(fields) <= 32, fields
        for k, v in fields.items():
            assert isinstance(v, str) and len(k) <= 32 and len(v.encode()) <= 1024 + 3, (k, v[:50])
