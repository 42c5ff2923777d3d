"""test_curve.py - the four IPC endpoints on tcp://127.0.0.1 with CURVE:
keys made with `sembarkctl keygen`, secrets in 0600 files, an allow-list of
client keys; /healthz is all green and every daemon's log records reach
the logs table over the CURVE log sink. A daemon given a tcp:// endpoint
and no keys refuses to start, naming the missing key."""

import datetime
import os
import subprocess

import sembark

ALL_OK = {"status": "ok", "services": {"authd": "ok", "telemetryd": "ok", "logd": "ok"}}


def keygen():
    """(public, secret) from sembarkctl keygen."""
    out = subprocess.run(sembark.command("ctl", "keygen"), capture_output=True, text=True,
                         timeout=30 * sembark.SLOW, env=sembark.clean_env(), check=True).stdout
    kv = dict(line.split(" = ", 1) for line in out.splitlines() if " = " in line)
    assert len(kv["public"]) == 40 and len(kv["secret"]) == 40, out
    return kv["public"], kv["secret"]


def write_0600(path, text):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.chmod(path, 0o600)
    return path


def tcp_endpoints():
    return {name: "tcp://127.0.0.1:%d" % sembark.free_port()
            for name in ("authd", "telemetryd", "logd", "log_sink")}


def curve_config(tmp_path):
    server_pub, server_sec = keygen()
    client_pub, client_sec = keygen()
    _, stranger_sec = keygen()
    assert stranger_sec != client_sec
    allowed = tmp_path / "allowed-clients"
    allowed.write_text("# ingress hosts and the backends' own connections\n%s\n" % client_pub)
    ipc = tcp_endpoints()
    ipc.update({
        "curve_server_public_key": server_pub,
        "curve_server_secret_file": write_0600(str(tmp_path / "server.key"), server_sec + "\n"),
        "curve_client_public_key": client_pub,
        "curve_client_secret_file": write_0600(str(tmp_path / "client.key"), client_sec + "\n"),
        "curve_allowed_clients_file": str(allowed),
    })
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
