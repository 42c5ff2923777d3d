"""audit_client.py - what the audit, retention and redaction tests share
(test_audit*.py, test_retention*.py, test_redaction*.py). The account API
itself (sign-up, login, CSRF) is client.py's Browser.

    audit_body(event, team, actor=, subject=, time_us=)  an audit event
    push_audit(stack, bodies)       write events into audit_outbox as
                                    sembark_authd, as authd's actions do
                                    (migrations/0008); logd moves them
    Logd(stack)                     a DEALER to logd's ROUTER:
        .audit_list(team, role, query="") -> (status, json)  (api.call audit.list)
    stored_audit(pg, team)          rows of audit_events for a team, newest first
    wait_stored_audit(pg, team, n)  ... once there are at least n
    read_audit(client, query="")    GET /api/audit[?query] as a client.py
                                    Browser or Bearer -> requests.Response
    scan_all_tables(pg)             [(table, row text, [addresses])] of every
                                    row of every table that holds something
                                    that looks like an IP address
"""

import json
import time
import uuid

import sembark

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


OUTBOX_INSERT = ("INSERT INTO audit_outbox (at, event, team_id, actor_id, actor_email, subject_id, "
                 "subject_email) VALUES (to_timestamp(%s / 1e6), %s, %s, %s, %s, %s, %s)")


def outbox_row(b):
    return (b["time_us"], b["event"], b["team_id"], b.get("actor_id"), b.get("actor_email"),
            b.get("subject_id"), b.get("subject_email"))


def push_audit(stack, bodies):
    """Write the events in one transaction as the role sembark_authd."""
    conn = stack.pg.connect(user=sembark.ROLES["authd"], password=stack.sec.passwords["authd"],
                            dbname=stack.dbname)
    try:
        with conn, conn.cursor() as cur:
            cur.executemany(OUTBOX_INSERT, [outbox_row(b) for b in bodies])
    finally:
        conn.close()


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
        return reply["body"]["status"], json.loads(reply["body"]["body"].decode("utf-8"))


def stored_audit(pg, team):
    return pg.query("SELECT id, at, event, actor_id::text, actor_email, subject_id::text, subject_email "
                    "FROM audit_events WHERE team_id = %s ORDER BY at DESC, id DESC", (team,))


def wait_stored_audit(pg, team, n, timeout=10):
    return sembark.wait_until(lambda: len(stored_audit(pg, team)) >= n and stored_audit(pg, team),
                              timeout, interval=0.1,
                              what="%d audit events of team %s in audit_events" % (n, team))


def read_audit(client, query=""):
    """GET /api/audit (a client.py Browser or Bearer)."""
    return client.get("/api/audit" + ("?" + query if query else ""))


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
