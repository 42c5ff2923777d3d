"""test_faults_campaign.py - faults under a mixed load (issue 11): while
logins, /api/me, telemetry batches and audit reads run (faults.py), in
turn each daemon is killed with SIGKILL (and started again, as systemd's
Restart= would), PostgreSQL is restarted (`pg_ctl stop -m fast` + start)
and stopped for 10 s, and logd is stopped for 30 s. Each run must keep
every promise faults.verdicts() checks: no request over 2 s, only 2xx or
quick 503 service_unavailable answers, each kind of request back within
5 s of the fault's end, no telemetry event answered 202 lost or stored
twice, every login answered 2xx audited once.

`make test` runs each fault once; `make test-faults` runs the campaign
FAULT_ROUNDS times over (default 5), each round on a new stack.
"""

import os
import time

import pytest

import faults
import sembark

ROUNDS = int(os.environ.get("FAULT_ROUNDS", "1"))

pytestmark = pytest.mark.skipif(not sembark.have_zmq(),
                                reason="python3-zmq/python3-msgpack not installed")


def kill_and_start(stack, name):
    def fault():
        stack.kill(name)
        stack.start(name)
    return fault


def pg_restart(pg):
    def fault():
        pg.stop("fast")
        pg.start()
    return fault


def down_for(stop, start, seconds):
    """stop(), `seconds` later start()."""
    def fault():
        stop()
        try:
            time.sleep(seconds)
        finally:
            start()
    return fault


FAULTS = {
    "kill -9 ingressd": lambda stack, pg: kill_and_start(stack, "ingressd"),
    "kill -9 authd": lambda stack, pg: kill_and_start(stack, "authd"),
    "kill -9 telemetryd": lambda stack, pg: kill_and_start(stack, "telemetryd"),
    "kill -9 logd": lambda stack, pg: kill_and_start(stack, "logd"),
    "PostgreSQL restarted": lambda stack, pg: pg_restart(pg),
    "PostgreSQL stopped 10 s": lambda stack, pg: down_for(lambda: pg.stop("fast"), pg.start, 10),
    "logd stopped 30 s": lambda stack, pg: down_for(lambda: stack.stop("logd"),
                                                   lambda: stack.start("logd"), 30),
}


@pytest.mark.parametrize("round_", range(ROUNDS), ids=lambda r: "round%d" % (r + 1))
@pytest.mark.parametrize("name", list(FAULTS))
def test_fault_under_load(make_stack, pg, name, round_):
    stack = make_stack()
    load = faults.Load(stack)
    try:
        run = load.run(name, FAULTS[name](stack, pg), ingress_down=name.endswith("ingressd"))
    finally:
        if not pg.running:
            pg.start()
    print(faults.summary(run))
    broken = faults.verdicts(run, pg)
    assert broken == [], "%s: %d promises broken:\n%s" % (name, len(broken), "\n".join(broken[:30]))
