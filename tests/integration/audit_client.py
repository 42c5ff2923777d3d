"""audit_client.py - what the audit, retention and redaction tests share
(test_audit*.py, test_retention*.py, test_redaction*.py).

    audit_body(event, team, actor=, subject=, time_us=)  an audit.event body
    push_audit(stack, bodies)       PUSH audit.event frames to logd's PULL,
                                    as authd does
    Logd(stack)                     a DEALER to logd's ROUTER:
        .audit_list(team, role, query="") -> (status, json)  (api.call audit.list)
    stored_audit(pg, team)          rows of audit_events for a team, newest first
    wait_stored_audit(pg, team, n)  ... once there are at least n
    Browser(stack)                  a browser-like HTTP client of the account
                                    API (cookies, CSRF, Origin):
        .signup() .login() .logout() .get() .post() .patch() .delete()
    accounts_available(stack)       does authd serve the account API yet?
    scan_all_tables(pg)             [(table, row text, [addresses])] of every
                                    row of every table that holds something
                                    that looks like an IP address
"""

import time
import urllib.parse
import uuid

import requests

import sembark

PASSWORD = "correct horse battery staple 42"
EVENTS = ("team_created", "login", "login_failed", "logout", "member_joined",
          "invite_rotated", "role_changed", "member_removed", "session_revoked",
          "password_changed")


def new_id():
    return str(uuid.uuid4())


def audit_body(event, team, actor=None, subject=None, time_us=None):
    """actor/subject: (id, email) or None."""
    b = {"time_us": int(time.time() * 1e6) if time_us is None else time_us,
         "event": event, "team_id": team}
    if actor:
        b["actor_id"], b["actor_email"] = actor
    if subject:
        b["subject_id"], b["subject_email"] = subject
    return b


def push_audit(stack, bodies):
    sembark.push_frames(sembark.endpoint(stack, "log"),
                        [sembark.ipc_frame("audit.event", b, id_=i + 1) for i, b in enumerate(bodies)])


class Logd(sembark.Backend):
    """api.call straight to logd's ROUTER, as ingressd sends it."""

    def __init__(self, stack):
        super().__init__(stack, "logd")

    def call(self, body, timeout=10.0):
        return super().call("api.call", body, timeout)

    def audit_list(self, team, role="owner", query="", op="audit.list"):
        body = {"op": op, "session_id": new_id(), "user_id": new_id(), "team_id": team,
                "role": role, "query": query, "body": b""}
        reply = self.call(body)
        assert reply["type"] == "api.reply", reply
        import json
        return reply["body"]["status"], json.loads(reply["body"]["body"].decode("utf-8"))


def stored_audit(pg, team):
    return pg.query("SELECT id, at, event, actor_id::text, actor_email, subject_id::text, subject_email "
                    "FROM audit_events WHERE team_id = %s ORDER BY at DESC, id DESC", (team,))


def wait_stored_audit(pg, team, n, timeout=10):
    return sembark.wait_until(lambda: len(stored_audit(pg, team)) >= n and stored_audit(pg, team),
                              timeout, interval=0.1,
                              what="%d audit events of team %s in audit_events" % (n, team))


# ---- the account API, as a browser uses it ---------------------------------------

class Browser:
    """One browser: its own cookie jar; CSRF token and Origin on every unsafe request."""

    def __init__(self, stack):
        self.stack = stack
        self.http = requests.Session()
        self.http.trust_env = False
        self.user = self.team = None
        self.email = None

    def close(self):
        self.http.close()

    def _csrf(self):
        self.http.get(self.stack.url("/api/csrf"), timeout=10)
        tok = self.http.cookies.get("XSRF-TOKEN")
        h = {"Origin": self.stack.origin}
        if tok:
            h["X-XSRF-TOKEN"] = urllib.parse.unquote(tok)
        return h

    def request(self, method, path, body=None):
        h = self._csrf() if method in ("POST", "PUT", "PATCH", "DELETE") else {}
        kw = {"headers": h, "timeout": 15, "allow_redirects": False}
        if body is not None:
            kw["json"] = body
        return self.http.request(method, self.stack.url(path), **kw)

    def get(self, path):
        return self.request("GET", path)

    def post(self, path, body=None):
        return self.request("POST", path, body)

    def patch(self, path, body=None):
        return self.request("PATCH", path, body)

    def delete(self, path):
        return self.request("DELETE", path)

    def signup(self, prefix="it-audit"):
        self.email = "%s-%s@example.com" % (prefix, uuid.uuid4().hex[:12])
        r = self.post("/api/teams", {"team_name": "Team " + prefix, "name": "Owner",
                                     "email": self.email, "password": PASSWORD})
        assert r.status_code == 201, (r.status_code, r.text)
        j = r.json()
        self.user, self.team = j["user"]["id"], j["team"]["id"]
        return j

    def accept(self, invite_url, prefix="it-member"):
        code = invite_url.rstrip("/").rsplit("/", 1)[-1]
        self.email = "%s-%s@example.com" % (prefix, uuid.uuid4().hex[:12])
        r = self.post("/api/invites/%s/accept" % code, {"name": "Member", "email": self.email,
                                                         "password": PASSWORD})
        assert r.status_code == 201, (r.status_code, r.text)
        j = r.json()
        self.user, self.team = j["user"]["id"], j["team"]["id"]
        return j

    def login(self, password=PASSWORD):
        return self.post("/api/login", {"email": self.email, "password": password})

    def logout(self):
        return self.post("/api/logout")

    def audit(self, query=""):
        return self.get("/api/audit" + ("?" + query if query else ""))


def accounts_available(stack):
    """Sign-up answers something other than 503 (authd serves the account API)."""
    b = Browser(stack)
    try:
        r = b.post("/api/teams", {})
        return r.status_code != 503
    finally:
        b.close()


# ---- scanning stored data ---------------------------------------------------------

def scan_all_tables(pg):
    """Every row of every table in schema public (partitioned tables through
    their parent, each row once) that holds an IP-like string."""
    tables = [t for (t,) in pg.query(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition "
        "ORDER BY 1")]
    bad = []
    for t in tables:
        for (text,) in pg.query('SELECT t::text FROM public."%s" t' % t.replace('"', '""')):
            found = sembark.find_ip_addresses(text)
            if found:
                bad.append((t, text[:300], found))
    return tables, bad
