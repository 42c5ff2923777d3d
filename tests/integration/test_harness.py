"""test_harness.py - the suite's own helpers, so that a check that can never
fail (an IP regex that matches nothing, a logfmt parser that accepts
everything, a sanitizer scan that reads the wrong file) is caught here.
Needs no daemon."""

import os
import shutil
import subprocess

import pytest

import sembark


@pytest.mark.parametrize("text,found", [
    ("peer 127.0.0.1 port", ["127.0.0.1"]),
    ("x=10.1.2.3:5555", ["10.1.2.3"]),
    ("for=[2001:db8::1]:443", ["2001:db8::1"]),
    ("::1", ["::1"]),
    ("mapped ::ffff:10.0.0.1", ["::ffff:10.0.0.1"]),
    ("fe80::1ff:fe23:4567:890a", ["fe80::1ff:fe23:4567:890a"]),
    ("2001:0db8:0000:0000:0000:ff00:0042:8329", ["2001:0db8:0000:0000:0000:ff00:0042:8329"]),
    ("time=2026-11-29T05:00:00.123Z", []),
    ("version 1.2.3 and 4.5", []),
    ("duration_ms=12 bytes=71 port 8080", []),
    ("sha 1.2.3.4.5", []),
    ("c++ std::string", []),
])
def test_find_ip_addresses(text, found):
    got = sembark.find_ip_addresses(text)
    for f in found:
        assert any(f in g or g in f for g in got), (text, got)
    if not found:
        assert got == [], (text, got)


@pytest.mark.parametrize("line,ok", [
    ('time=2026-11-29T05:00:00.123Z service=logd level=info msg="ready" status=serving', True),
    ('time=2026-11-29T05:00:00.123Z service=logd level=info msg=ready path="/a\\nb\\"c\\x1b"', True),
    ('time=2026-11-29T05:00:00.123Z service=logd level=info msg=ready service=logd', False),
    ('service=logd time=2026-11-29T05:00:00.123Z level=info msg=ready', False),
    ('time=2026-11-29T05:00:00.123Z service=logd level=info msg=a b', False),
    ('time=2026-11-29T05:00:00.123Z service=logd level=info msg="open', False),
    ('time=2026-11-29 service=logd level=info msg=x', False),
    ('sembark-ingressd: listening on port 1', False),
    ('time=2026-11-29T05:00:00.123Z service=logd level=loud msg=x', False),
    ('time=2026-11-29T05:00:00.123Z service=logd level=info', False),
    ('time=2026-11-29T05:00:00.123Z service=logd level=info msg=x Key=y', False),
])
def test_check_log_line(line, ok):
    assert (sembark.check_log_line(line) == []) == ok, sembark.check_log_line(line)


def test_parse_logfmt_values():
    kv = sembark.parse_logfmt('a=1 b="x y" c="q\\"\\\\" d= e=""')
    assert kv == [("a", "1"), ("b", "x y"), ("c", 'q"\\'), ("d", ""), ("e", "")]


def test_sanitizer_scan(tmp_path):
    class FakeProc:
        pid = 1

        def poll(self):
            return 0
    st = sembark.Stack.__new__(sembark.Stack)
    st.problems = []
    d = sembark.Daemon.__new__(sembark.Daemon)
    d.name = "authd"
    p = tmp_path / "authd.1.stderr"
    p.write_text("time=x service=authd\n=================================================================\n"
                 "==1==ERROR: AddressSanitizer: heap-use-after-free on address 0x1\n")
    d.stderr_paths = [str(p)]
    d.stdout_paths = []
    d.valgrind_paths = []
    st._check_sanitizer(d)
    assert len(st.problems) == 1 and "AddressSanitizer" in st.problems[0]
    p.write_text("services/logd/store.c:12:3: runtime error: signed integer overflow\n")
    st.problems = []
    st._check_sanitizer(d)
    assert len(st.problems) == 1


# A program with each fault the valgrind scan must catch: argv[1] picks one.
VALGRIND_PROBE_C = r"""
#include <stdlib.h>
#include <string.h>
int main(int argc, char **argv)
{
	char *p = malloc(16);
	int n;
	if (argc < 2) { free(p); return 0; }
	if (!strcmp(argv[1], "leak")) { p[0] = 1; p = NULL; return 0; }
	if (!strcmp(argv[1], "uninit")) { memset(p, 0, 16); if (p[0] + n > 3) p[1] = 2; free(p); return 0; }
	if (!strcmp(argv[1], "overflow")) { memset(p, 0, 16); n = p[16]; free(p); return n > 100; }
	if (!strcmp(argv[1], "uaf")) { free(p); p[1] = 0; return 0; }
	free(p);
	return 0;
}
"""


@pytest.mark.skipif(not shutil.which("valgrind") or not shutil.which("cc"), reason="needs valgrind and cc")
def test_valgrind_scan(tmp_path, monkeypatch):
    """valgrind_problem passes a clean report and catches a definite leak, an
    uninitialised read, a heap overflow and a use after free, also in a report
    cut short as SIGKILL leaves it, all from valgrind's real output."""
    src = tmp_path / "probe.c"
    src.write_text(VALGRIND_PROBE_C)
    exe = str(tmp_path / "probe")
    subprocess.run(["cc", "-g", "-O0", "-w", "-o", exe, str(src)], check=True, timeout=60)
    monkeypatch.setattr(sembark, "VALGRIND", True)
    monkeypatch.setattr(sembark, "binary", lambda name: exe)
    monkeypatch.setattr(sembark, "VALGRIND_LOGS", [])  # not the suite's own reports
    found = {}
    for fault in ("none", "leak", "uninit", "overflow", "uaf"):
        log = str(tmp_path / (fault + ".valgrind"))
        argv = sembark.command("probe", *([] if fault == "none" else [fault]), log_path=log)
        assert argv[0] == "valgrind" and argv[-1 - (fault != "none")] == exe, argv
        subprocess.run(argv, timeout=120, capture_output=True)
        assert log in sembark.VALGRIND_LOGS
        found[fault] = sembark.valgrind_problem(log)
    assert found["none"] is None
    assert "definitely lost: 16 bytes" in found["leak"], found["leak"]
    assert "Conditional jump" in found["uninit"], found["uninit"]
    assert "Invalid read" in found["overflow"], found["overflow"]
    assert "Invalid write" in found["uaf"], found["uaf"]
    # SIGKILL leaves a report without its summary: the errors before it count
    text = (tmp_path / "uaf.valgrind").read_text()
    killed = tmp_path / "killed.valgrind"
    killed.write_text(text[:text.index("HEAP SUMMARY")])
    found["killed"] = sembark.valgrind_problem(str(killed))
    assert "before the process ended" in found["killed"] and "Invalid write" in found["killed"], found["killed"]
    assert sembark.valgrind_problem(str(tmp_path / "absent.valgrind")) is None


def test_clean_env_scrubs_sembark_variables(monkeypatch):
    monkeypatch.setenv("SEMBARK_BUILD", "build-asan")
    monkeypatch.setenv("SEMBARK_AUTH_BCRYPT_COST", "5")
    monkeypatch.setenv("NOTIFY_SOCKET", "/run/systemd/notify")
    env = sembark.clean_env({"SEMBARK_LOGS_LEVEL": "debug"})
    assert not [k for k in env if k.startswith("SEMBARK_") and k != "SEMBARK_LOGS_LEVEL"], env
    assert "NOTIFY_SOCKET" not in env
    assert env["SEMBARK_LOGS_LEVEL"] == "debug"


def test_notify_socket_roundtrip(tmp_path):
    import socket
    n = sembark.NotifySocket(str(tmp_path / "n.sock"))
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as s:
            s.sendto(b"READY=1\nSTATUS=serving", n.path)
        m = n.wait("READY", "1", timeout=2)
        assert m is not None and m[1] == os.getpid() and m[2]["STATUS"] == "serving", m
    finally:
        n.close()


def test_raw_conn_pipelined(tmp_path):
    import socket
    import threading
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)

    def serve():
        c, _ = srv.accept()
        c.recv(100)
        c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 404 Not Found\r\n"
                  b"Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n")
        c.close()
    t = threading.Thread(target=serve)
    t.start()
    with sembark.raw_connect(srv.getsockname()[1]) as c:
        c.sendall(b"x")
        r1 = c.read_response(5)
        r2 = c.read_response(5)
        r3 = c.read_response(5)
    t.join()
    srv.close()
    assert (r1.status, r1.body) == (200, b"ok")
    assert (r2.status, r2.body) == (404, b"abc")
    assert r3 is None
