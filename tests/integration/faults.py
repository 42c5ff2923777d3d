"""faults.py - the fault campaign's mixed load and its verdicts
(test_faults_*.py, issue 11).

    Load(stack)            a team, its owner's token, and four threads doing
                           what people do, each on a new connection a request:
                           token logins (POST /api/tokens), GET /api/me,
                           telemetry batches (POST /api/telemetry/events),
                           audit reads (GET /api/audit)
        .run(fault)        load for WARM_S, fault(), load for TAIL_S more;
                           returns a Run (every request, the fault's window)
    verdicts(run, pg)      every promise of the campaign, checked; a list of
                           what was broken (empty: kept)

The promises: no request waits more than SLOW_S; every answer is a 2xx or a
quick 503 service_unavailable (a refused or reset connection only while
ingressd itself is down); each kind of request succeeds again within
BACK_S of the fault's end; every telemetry event answered 202 is stored,
once; every login answered 2xx has its audit event, and no login has two.
Every loop is bounded by the run's length; each request by its timeout.
"""

import dataclasses
import json
import threading
import time
import uuid

import requests

import sembark
import telemetry_client as tc
from client import Browser

# The promises hold for the real build; under ASan (sembark.SLOW, 3x) the times stretch by as much.
WARM_S = 2.0                  # load before the fault
TAIL_S = 6.0 * sembark.SLOW   # load after the fault ended
SLOW_S = 2.0 * sembark.SLOW   # no request may take longer
BACK_S = 5.0 * sembark.SLOW   # every kind succeeds again within this after the fault
TIMEOUT_S = 4.0 * SLOW_S      # a request given up on (it will be reported as slow)

# kind -> pause between two requests of its thread (seconds)
KINDS = {"login": 0.10, "me": 0.02, "telemetry": 0.05, "audit": 0.10}


@dataclasses.dataclass
class Req:
    kind: str
    t0: float          # monotonic start
    dt: float          # seconds
    status: int        # 0: no HTTP answer (connection refused, reset)
    code: str = ""     # the error code of a JSON error body
    ids: tuple = ()    # telemetry event ids sent


@dataclasses.dataclass
class Run:
    name: str
    reqs: list
    fault_start: float
    fault_end: float
    team: str
    user: str
    ingress_down: bool  # connection errors allowed during the fault


class Load:
    def __init__(self, stack):
        self.stack = stack
        owner = Browser(stack)
        owner.signup()
        self.email, self.password = owner.email, owner.password
        self.team, self.user = owner.team["id"], owner.user["id"]
        self.token = owner.bearer().token
        owner.close()
        self.reqs, self.lock = [], threading.Lock()
        self.stop = threading.Event()

    # ---- one request of each kind, on a connection of its own ---------------
    def _send(self, method, path, body=None, token=True):
        h = {"Connection": "close", "Content-Type": "application/json"}
        if token:
            h["Authorization"] = "Bearer " + self.token
        data = None if body is None else json.dumps(body).encode()
        with requests.Session() as s:
            s.trust_env = False
            return s.request(method, self.stack.url(path), data=data, headers=h, timeout=TIMEOUT_S)

    def _login(self):
        return self._send("POST", "/api/tokens", {"email": self.email, "password": self.password,
                                                  "device_name": "fault campaign"}, token=False), ()

    def _me(self):
        return self._send("GET", "/api/me"), ()

    def _telemetry(self):
        events = [tc.event() for _ in range(5)]
        return self._send("POST", "/api/telemetry/events", tc.batch(events)), \
            tuple(e["id"] for e in events)

    def _audit(self):
        return self._send("GET", "/api/audit?limit=10"), ()

    def _one(self, kind):
        t0 = time.monotonic()
        try:
            r, ids = getattr(self, "_" + kind)()
            status, code = r.status_code, ""
            if status >= 400:
                try:
                    code = r.json().get("error", "")
                except ValueError:
                    code = "(not json)"
        except requests.RequestException as e:
            status, code, ids = 0, type(e).__name__, ()
        with self.lock:
            self.reqs.append(Req(kind, t0, time.monotonic() - t0, status, code, ids))

    def _worker(self, kind, pause):
        while not self.stop.is_set():
            self._one(kind)
            self.stop.wait(pause)

    def run(self, name, fault, ingress_down=False):
        self.reqs, self.stop = [], threading.Event()
        threads = [threading.Thread(target=self._worker, args=(k, p), daemon=True)
                   for k, p in KINDS.items()]
        for t in threads:
            t.start()
        try:
            time.sleep(WARM_S)
            start = time.monotonic()
            fault()
            end = time.monotonic()
            time.sleep(TAIL_S)
        finally:
            self.stop.set()
            for t in threads:
                t.join(TIMEOUT_S + 2)
        return Run(name, list(self.reqs), start, end, self.team, self.user, ingress_down)


# ---- verdicts ------------------------------------------------------------------

def _slow(run):
    return ["%s took %.2f s (status %d %s) at fault%+.1f s" % (r.kind, r.dt, r.status, r.code,
                                                                 r.t0 - run.fault_start)
            for r in run.reqs if r.dt > SLOW_S]


def _bad_answers(run):
    out = []
    for r in run.reqs:
        if 200 <= r.status < 300 or (r.status == 503 and r.code == "service_unavailable"):
            continue
        during = run.fault_start - 0.2 <= r.t0 <= run.fault_end + 0.5
        if r.status == 0 and run.ingress_down and during:
            continue
        out.append("%s answered %d %s at fault%+.1f s" % (r.kind, r.status, r.code,
                                                          r.t0 - run.fault_start))
    return out


def _not_back(run):
    out = []
    for kind in KINDS:
        ok = [r.t0 + r.dt for r in run.reqs
              if r.kind == kind and r.t0 >= run.fault_end and 200 <= r.status < 300]
        if not ok or min(ok) - run.fault_end > BACK_S:
            out.append("%s not back within %.0f s of the fault's end (first success %s)"
                       % (kind, BACK_S, "never" if not ok else "%.1f s" % (min(ok) - run.fault_end)))
    return out


def _telemetry_lost(run, pg):
    acked = [i for r in run.reqs if r.kind == "telemetry" and r.status == 202 for i in r.ids]
    rows = dict(pg.query("SELECT id::text, count(*) FROM telemetry_events "
                         "WHERE user_id = %s AND id = ANY(%s::uuid[]) GROUP BY id",
                         (run.user, acked)))
    lost = [i for i in acked if i not in rows]
    twice = [i for i, n in rows.items() if n > 1]
    out = []
    if lost:
        out.append("%d of %d telemetry events answered 202 are not stored" % (len(lost), len(acked)))
    if twice:
        out.append("%d telemetry events stored twice" % len(twice))
    return out


def _audit_wrong(run, pg):
    """Logins answered 2xx each have their event; at most the unanswered ones more."""
    logins = [r for r in run.reqs if r.kind == "login"]
    done = sum(1 for r in logins if 200 <= r.status < 300)
    unknown = len(logins) - done
    sembark.wait_until(lambda: pg.query("SELECT count(*) FROM audit_outbox WHERE team_id = %s",
                                        (run.team,))[0][0] == 0, 20, interval=0.2,
                       what="the outbox of team %s empty" % run.team)
    # the login that made the load's own token is one more
    stored = pg.query("SELECT count(*) FROM audit_events WHERE team_id = %s AND event = 'login'",
                      (run.team,))[0][0] - 1
    if stored < done:
        return ["%d logins answered 2xx but only %d login audit events" % (done, stored)]
    if stored > done + unknown:
        return ["%d login audit events for %d logins (%d answered 2xx): some stored twice"
                % (stored, len(logins), done)]
    return []


def verdicts(run, pg):
    kinds = {k: sum(1 for r in run.reqs if r.kind == k) for k in KINDS}
    assert all(kinds.values()), "a kind of request never ran: %r" % kinds
    return (_slow(run) + _bad_answers(run) + _not_back(run) + _telemetry_lost(run, pg)
            + _audit_wrong(run, pg))


def summary(run):
    """One line for the test's output: counts by kind and status, worst time."""
    counts = {}
    for r in run.reqs:
        counts.setdefault(r.kind, {}).setdefault(r.status, 0)
        counts[r.kind][r.status] += 1
    worst = max((r.dt for r in run.reqs), default=0)
    return "%s: %d requests %s, slowest %.0f ms, fault %.1f s" % (
        run.name, len(run.reqs), counts, worst * 1000, run.fault_end - run.fault_start)


def new_id():
    return str(uuid.uuid4())
