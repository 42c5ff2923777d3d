"""telemetry_client.py - what the telemetry tests share: building valid
batches and events, talking to sembark-telemetryd directly over ZeroMQ
(api.call as ingressd sends it, telemetry.signal as authd sends it), and
reading what was stored. Test files: test_telemetry*.py.

    batch(events, client=None)      a request body (dict)
    event(type_, **kw)              one valid event, fresh id, occurred now
    Telemetryd(stack)               a DEALER to the stack's telemetryd:
        .ingest(body, user, team)   -> (status, json)   (api.call telemetry.ingest)
        .summary(team, role, query) -> (status, json)   (api.call telemetry.summary)
        .signal(event, user, team)  -> reply envelope   (telemetry.signal)
    stored(pg, user)                rows of telemetry_events for a user
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


# ---- accounts over HTTP (the accounts API of API.md "Endpoints") --------------------

PASSWORD = "correct horse battery staple 42"


class Browser:
    """One browser: its own cookie jar, CSRF token, and the account it is logged in as."""

    def __init__(self, stack):
        import requests
        self.stack = stack
        self.http = requests.Session()
        self.http.trust_env = False
        self.user = self.team = None
        self.email = None

    def close(self):
        self.http.close()

    def csrf(self):
        """Origin + X-XSRF-TOKEN for a state-changing request."""
        import urllib.parse
        r = self.http.get(self.stack.url("/api/csrf"), timeout=10)
        assert r.status_code == 204, (r.status_code, r.text)
        return {"Origin": self.stack.origin,
                "X-XSRF-TOKEN": urllib.parse.unquote(self.http.cookies.get("XSRF-TOKEN"))}

    def request(self, method, path, json_body=None, csrf=True, headers=None, **kw):
        h = dict(self.csrf() if csrf and method not in ("GET", "HEAD") else {})
        h.update(headers or {})
        kw.setdefault("timeout", 15)
        kw.setdefault("allow_redirects", False)
        return self.http.request(method, self.stack.url(path), json=json_body, headers=h, **kw)

    def signup(self, team_name="it team"):
        self.email = "it-%s@example.com" % uuid.uuid4().hex[:12]
        r = self.request("POST", "/api/teams", {"team_name": team_name, "name": "It Owner",
                                                "email": self.email, "password": PASSWORD})
        assert r.status_code == 201, (r.status_code, r.text)
        j = r.json()
        self.user, self.team = j["user"]["id"], j["team"]["id"]
        return j

    def join(self, invite_url):
        code = invite_url.rstrip("/").rsplit("/", 1)[1]
        self.email = "it-%s@example.com" % uuid.uuid4().hex[:12]
        r = self.request("POST", "/api/invites/%s/accept" % code,
                         {"name": "It Member", "email": self.email, "password": PASSWORD})
        assert r.status_code == 201, (r.status_code, r.text)
        j = r.json()
        self.user, self.team = j["user"]["id"], j["team"]["id"]
        return j

    def invite_url(self):
        r = self.request("GET", "/api/team/invite")
        assert r.status_code == 200, (r.status_code, r.text)
        return r.json()["invite_url"]

    def set_role(self, member_id, role):
        r = self.request("PATCH", "/api/team/members/%s" % member_id, {"role": role})
        assert r.status_code == 200, (r.status_code, r.text)

    def login(self):
        r = self.request("POST", "/api/login", {"email": self.email, "password": PASSWORD})
        assert r.status_code == 200, (r.status_code, r.text)

    def logout(self):
        r = self.request("POST", "/api/logout")
        assert r.status_code == 204, (r.status_code, r.text)

    def token(self, device_name="it device"):
        """A Bearer token for this account (POST /api/tokens)."""
        import requests
        r = requests.post(self.stack.url("/api/tokens"), json={
            "email": self.email, "password": PASSWORD, "device_name": device_name},
            timeout=15, proxies={"http": None})
        assert r.status_code == 201, (r.status_code, r.text)
        return r.json()["token"]

    def send(self, body, **kw):
        """POST /api/telemetry/events with the session cookie and CSRF."""
        return self.request("POST", "/api/telemetry/events", body, **kw)

    def summary(self, query=""):
        return self.request("GET", "/api/telemetry/summary" + (("?" + query) if query else ""))


def bearer_post(stack, token, body, timeout=15, headers=None):
    """POST /api/telemetry/events as a native client (no cookie, no CSRF)."""
    import requests
    h = {"Authorization": "Bearer " + token}
    h.update(headers or {})
    data = body if isinstance(body, (bytes, str)) else json.dumps(body)
    h.setdefault("Content-Type", "application/json")
    return requests.post(stack.url("/api/telemetry/events"), data=data, headers=h,
                         timeout=timeout, proxies={"http": None})


def bearer_get(stack, token, path, timeout=15):
    import requests
    return requests.get(stack.url(path), headers={"Authorization": "Bearer " + token},
                        timeout=timeout, proxies={"http": None})
