"""test_curve.py - the four IPC endpoints on tcp://127.0.0.1 with CURVE:
keys made with `sembarkctl keygen`, secrets in 0600 files, an allow-list of
client keys; /healthz is all green and every daemon's log records reach
the logs table over the CURVE log sink. A daemon given a tcp:// endpoint
and no keys refuses to start, naming the missing key."""

import datetime
import os

import sembark
from sembark import curve_keygen as keygen

ALL_OK = {"status": "ok", "services": {"authd": "ok", "telemetryd": "ok", "logd": "ok"}}


def tcp_endpoints():
    return {name: "tcp://127.0.0.1:%d" % sembark.free_port()
            for name in ("authd", "telemetryd", "logd", "log_sink")}


def curve_config(tmp_path):
    _, stranger_sec = keygen()
    ipc = sembark.curve_ipc(tmp_path, tcp_endpoints())
    assert stranger_sec + "\n" != open(ipc["curve_client_secret_file"]).read()
    return {"ipc": ipc}


def test_stack_over_tcp_with_curve(make_stack, pg, tmp_path):
    stack = make_stack(config=curve_config(tmp_path))
    r = stack.get("/healthz")
    assert r.status_code == 200, (r.status_code, r.text)
    assert r.json() == ALL_OK
    t0 = datetime.datetime.fromtimestamp(stack.started_at, datetime.timezone.utc)
    want = {"ingressd", "authd", "telemetryd", "logd"}

    def services():
        return {row[0] for row in pg.query("SELECT DISTINCT service FROM logs WHERE at >= %s",
                                           (t0,))}

    sembark.wait_until(lambda: want <= services(), 10, interval=0.2,
                       what="records of %s in table logs over tcp://" % sorted(want))
    for name in sembark.DAEMONS:
        with open(stack.daemons[name].stderr_path, errors="replace") as f:
            text = f.read()
        assert "CURVE" not in text, (name, text[-2000:])


def start_refused(make_stack, name, ipc):
    stack = make_stack(config={"ipc": ipc}, start=False)
    stack.start(name, wait_ready=False)
    rc = stack.wait_exit(name)
    with open(stack.daemons[name].stderr_path, errors="replace") as f:
        return rc, f.read()


def test_tcp_endpoint_without_keys_refused(make_stack):
    rc, err = start_refused(make_stack, "logd", tcp_endpoints())
    assert rc != 0, err
    assert "key=curve_allowed_clients_file" in err, err

    rc, err = start_refused(make_stack, "authd", tcp_endpoints())
    assert rc != 0, err
    assert "key=curve_server_public_key" in err, err


def test_loose_secret_file_refused(make_stack, tmp_path):
    config = curve_config(tmp_path)
    os.chmod(config["ipc"]["curve_server_secret_file"], 0o644)
    rc, err = start_refused(make_stack, "logd", config["ipc"])
    assert rc != 0, err
    assert "key=curve_server_secret_file" in err, err
    with open(config["ipc"]["curve_server_secret_file"]) as f:
        assert f.read().strip() not in err
