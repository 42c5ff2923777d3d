"""telemetry_client.py - what the telemetry tests share: building valid
batches and events, talking to sembark-telemetryd directly over ZeroMQ
(api.call as ingressd sends it, telemetry.signal as authd sends it),
reading what was stored, and the two telemetry routes for a client.py
Browser or Bearer (accounts, sessions and tokens are client.py's).
Test files: test_telemetry*.py.

    batch(events, client=None)      a request body (dict)
    event(type_, **kw)              one valid event, fresh id, occurred now
    Telemetryd(stack)               a DEALER to the stack's telemetryd:
        .ingest(body, user, team)   -> (status, json)   (api.call telemetry.ingest)
        .summary(team, role, query) -> (status, json)   (api.call telemetry.summary)
        .signal(event, user, team)  -> reply envelope   (telemetry.signal)
    stored(pg, user)                rows of telemetry_events for a user
    count(pg, user)                 how many rows of telemetry_events a user has
    post_events(client, body, **kw) POST /api/telemetry/events (body: a dict,
                                    or str/bytes sent as they are)
    get_summary(client, query="")   GET /api/telemetry/summary[?query]
"""

import copy
import datetime
import json
import time
import uuid

import sembark

CLIENT = {"app_version": "2.4.1", "os_version": "macOS 14.5",
          "display": {"width": 2560, "height": 1440}}

ATTRS = {
    "feature_interaction": {"feature": "invite.copy"},
    "crash": {},
    "error": {"code": "E42"},
    "network_status": {"online": True},
    "connectivity": {"state": "connected"},
}


def rfc3339(dt):
    return dt.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def now_minus(**delta):
    return rfc3339(datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(**delta))


def event(type_="feature_interaction", id_=None, occurred_at=None, attrs=None, **extra):
    e = {"id": id_ or str(uuid.uuid4()), "type": type_,
         "occurred_at": occurred_at or now_minus(seconds=1),
         "attrs": dict(ATTRS.get(type_, {})) if attrs is None else attrs}
    e.update(extra)
    return e


def batch(events, client=None):
    return {"client": copy.deepcopy(CLIENT) if client is None else client, "events": events}


def new_ids():
    """A fresh (user_id, team_id)."""
    return str(uuid.uuid4()), str(uuid.uuid4())


class Telemetryd(sembark.Backend):
    """api.call / telemetry.signal straight to telemetryd's ROUTER."""

    def __init__(self, stack):
        super().__init__(stack, "telemetryd")

    def api(self, op, user, team, role="owner", query="", body=b"", timeout=10.0):
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
        elif isinstance(body, str):
            body = body.encode()
        msg = {"op": op, "session_id": "it-session", "user_id": user, "team_id": team,
               "role": role, "body": body}
        if query:
            msg["query"] = query
        reply = self.call("api.call", msg, timeout)
        if reply["type"] != "api.reply":
            return None, reply
        b = reply["body"]
        return b["status"], json.loads(b["body"].decode("utf-8"))

    def ingest(self, body, user, team, timeout=10.0):
        return self.api("telemetry.ingest", user, team, body=body, timeout=timeout)

    def summary(self, team, role="owner", query="", user=None):
        return self.api("telemetry.summary", user or str(uuid.uuid4()), team, role=role, query=query)

    def signal(self, event_, user, team, time_us=None):
        return self.call("telemetry.signal", {
            "time_us": int(time.time() * 1e6) if time_us is None else time_us,
            "event": event_, "user_id": user, "team_id": team})


def stored(pg, user):
    """Every stored row of one user, as dicts, oldest first."""
    cols = ("id", "team_id", "user_id", "type", "occurred_at", "received_at", "app_version",
            "os_version", "display_width", "display_height", "attrs")
    rows = pg.query("SELECT %s FROM telemetry_events WHERE user_id = %%s ORDER BY occurred_at, id"
                    % ", ".join(cols), (user,))
    return [dict(zip(cols, r)) for r in rows]


def count(pg, user):
    return pg.query("SELECT count(*) FROM telemetry_events WHERE user_id = %s", (user,))[0][0]


# ---- the telemetry routes over HTTP, as a client.py Browser or Bearer -------------

def post_events(client, body, **kw):
    """POST /api/telemetry/events; a str or bytes body is sent as it is.
    kw: what client.request takes (headers=, csrf= for a Browser, ...)."""
    if isinstance(body, (bytes, str)):
        return client.post("/api/telemetry/events", data=body, **kw)
    return client.post("/api/telemetry/events", body, **kw)


def get_summary(client, query=""):
    return client.get("/api/telemetry/summary" + (("?" + query) if query else ""))
