#!/usr/bin/env python3
"""hold_conns.py - the abusive clients of the "held connections" benchmark row
(bench/run.sh): SLOW slowloris connections (a request head trickled a byte
every 0.2 s) and IDLE keep-alive connections (one answered request each,
then silence) held against 127.0.0.1:PORT for SECONDS, from loopback
addresses other than 127.0.0.1 (127.0.0.2 for the slowloris ones, 200
connections from each of 127.0.0.10, 127.0.0.11, ... for the idle ones),
so that the per-address cap ([ingress] max_connections_per_address,
default 256) refuses none of them and wrk on 127.0.0.1 is the normal
client. A connection the server closes (request_timeout, idle_timeout) is
opened again, as an attacker would. Prints "held S slowloris, I idle"
once all are up (or as many as could be opened), then "kept ..." at the
end with how many were opened again.

usage: hold_conns.py PORT SECONDS [SLOW [IDLE]]
"""
import resource
import select
import socket
import sys
import time

PER_SOURCE = 200
HEAD = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "
SLOW_INTERVAL = 0.2


def source(i):
    return "127.0.%d.%d" % divmod(10 + i // PER_SOURCE, 256)


def connect(port, src):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.settimeout(10)
        s.bind((src, 0))
        s.connect(("127.0.0.1", port))
    except OSError:
        s.close()
        raise
    return s


def open_idle(port, i):
    """Connection i of the idle ones, after one answered request; None when it failed."""
    try:
        s = connect(port, source(i))
        s.sendall(b"GET /.well-known/security.txt HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        got = b""
        while b"\r\n\r\n" not in got:
            chunk = s.recv(4096)
            if not chunk:
                s.close()
                return None
            got += chunk
        # the small body arrives with the head on loopback; what is left is read as EOF later
        s.setblocking(False)
        try:
            s.recv(65536)
        except BlockingIOError:
            pass
        return s
    except OSError:
        return None


def open_slow(port):
    try:
        s = connect(port, "127.0.0.2")
        s.sendall(HEAD[:1])
        s.setblocking(False)
        return [s, 1]
    except OSError:
        return None


def closed(socks):
    """The sockets among socks the server has closed (readable: EOF, or an answer such as 408)."""
    p = select.poll()
    for s in socks:
        p.register(s.fileno(), select.POLLIN)
    fds = {fd for fd, _ in p.poll(0)}
    return [s for s in socks if s.fileno() in fds]


def main():
    port, seconds = int(sys.argv[1]), float(sys.argv[2])
    n_slow = int(sys.argv[3]) if len(sys.argv) > 3 else 200
    n_idle = int(sys.argv[4]) if len(sys.argv) > 4 else 5000
    need = n_slow + n_idle + 256
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < need:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(need, hard), hard))
    end = time.monotonic() + min(seconds, 900)
    slow = [c for c in (open_slow(port) for _ in range(n_slow)) if c]
    idle = {}
    for i in range(n_idle):
        s = open_idle(port, i)
        if s:
            idle[i] = s
    print("held %d slowloris, %d idle" % (len(slow), len(idle)), flush=True)
    reopened = 0
    while time.monotonic() < end:
        for c in slow:
            try:
                c[0].send(HEAD[c[1]:c[1] + 1] or b"s")
                c[1] += 1
            except OSError:
                pass
        gone = set(closed([c[0] for c in slow]))
        for c in [c for c in slow if c[0] in gone]:
            c[0].close()
            slow.remove(c)
            new = open_slow(port)
            if new:
                slow.append(new)
                reopened += 1
        gone = set(closed(list(idle.values())))
        for i in [i for i, s in idle.items() if s in gone]:
            idle.pop(i).close()
            s = open_idle(port, i)
            if s:
                idle[i] = s
                reopened += 1
        time.sleep(SLOW_INTERVAL)
    print("kept %d slowloris, %d idle; %d opened again after the server closed them" %
          (len(slow), len(idle), reopened), flush=True)


if __name__ == "__main__":
    main()
