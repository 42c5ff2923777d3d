"""test_privacy.py - export and erasure (API.md: GET /api/me/export, DELETE /api/me,
DELETE /api/team; OWASP ASVS 8.3.2), against the real daemons and PostgreSQL.

Export: one JSON document of everything stored about the caller (account, team, sessions,
two-factor state, telemetry events, audit events where they are actor or subject), never a
token, hash or secret; only one's own. Erasure: the password proven again (422 when wrong, 422
when absent, CSRF as every unsafe route); then the account, its sessions and telemetry are gone
from PostgreSQL, every audit event that named them says "[erased]" instead (stored ones, and ones
still in authd's outbox), the cookie is cleared and the token dead, the email can sign up again;
an owner with members gets 409; DELETE /api/team by the owner erases every member and the team
(its invite link is dead), by anyone else 403. A write that was under way when the erasure
committed brings nothing back: an audit row naming an erased id is stored with the placeholder,
telemetry of an erased id is not stored, and the hourly sweep erases what came in between."""

import json
import re

import pytest

import sembark
from client import Browser, PASSWORD, invite_code, json_error, make_team
from telemetry_client import batch, event, post_events

ERASED = "[erased]"


def audit_rows(pg, team_id):
    return pg.query("SELECT event, actor_id::text, actor_email, subject_id::text, subject_email "
                    "FROM audit_events WHERE team_id = %s ORDER BY at, id", (team_id,))


def wait_audit(pg, team_id, pred, what):
    sembark.wait_until(lambda: pred(audit_rows(pg, team_id)), timeout=20, what=what)
    return audit_rows(pg, team_id)


def erased_everywhere(pg, user_id, email):
    """Nothing of the person is left, at once or after authd's sweep (ERASE_SWEEP_DELAY_S,
    10 s): a sign_in event on its way from authd when the erasure committed may land after
    it, and the sweep that the erasure brought forward removes it."""
    sembark.wait_until(lambda: names_anywhere(pg, user_id, email) == [], timeout=30,
                       what="nothing left of %s" % user_id)


def names_anywhere(pg, user_id, email):
    """Tables and columns where the id or the email of a person still appears."""
    found = []
    checks = [
        ("users", "SELECT count(*) FROM users WHERE id = %s OR email = %s", (user_id, email)),
        ("sessions", "SELECT count(*) FROM sessions WHERE user_id = %s", (user_id,)),
        ("telemetry_events", "SELECT count(*) FROM telemetry_events WHERE user_id = %s", (user_id,)),
        ("telemetry_seen", "SELECT count(*) FROM telemetry_seen WHERE user_id = %s", (user_id,)),
        ("audit_events", "SELECT count(*) FROM audit_events WHERE actor_id = %s OR subject_id = %s "
         "OR actor_email = %s OR subject_email = %s", (user_id, user_id, email, email)),
        ("audit_outbox", "SELECT count(*) FROM audit_outbox WHERE actor_id = %s OR subject_id = %s "
         "OR actor_email = %s OR subject_email = %s", (user_id, user_id, email, email)),
        ("totp_recovery_codes", "SELECT count(*) FROM totp_recovery_codes WHERE user_id = %s",
         (user_id,)),
    ]
    for name, sql, params in checks:
        if pg.query(sql, params)[0][0]:
            found.append(name)
    return found


# ---- export -------------------------------------------------------------------------------

def test_export_holds_everything_and_no_secret(shared_stack):
    owner, admin, member = make_team(shared_stack)
    r = post_events(member, batch([event(attrs={"feature": "export.test"}), event("crash")]))
    assert r.status_code == 202 and r.json()["accepted"] == 2, r.text
    wait_audit(shared_stack.pg, owner.team["id"],
               lambda rows: any(e == "member_joined" and s == member.user["id"]
                                for e, _, _, s, _ in rows), "the member's join in the trail")

    r = member.get("/api/me/export")
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("application/json")
    assert r.headers.get("Cache-Control") == "no-store"
    doc = r.json()
    assert doc["format"] == "sembark-export-1"
    acc = doc["account"]
    assert (acc["id"], acc["email"], acc["role"]) == (member.user["id"], member.email, "member")
    assert acc["two_factor"] == {"enabled": False, "enabled_at": None, "recovery_codes_left": 0}
    assert doc["team"]["id"] == owner.team["id"] and doc["team"]["name"] == owner.team["name"]
    assert [s["id"] for s in doc["sessions"]] == [member.session_id()]
    assert set(doc["sessions"][0]) == {"id", "created_at", "expires_at", "last_used_at",
                                       "device_name"}
    types = sorted(e["type"] for e in doc["telemetry_events"])
    assert "crash" in types and "feature_interaction" in types, types  # sign_in may be on its way
    feature = [e for e in doc["telemetry_events"] if e["type"] == "feature_interaction"][0]
    assert feature["attrs"] == {"feature": "export.test"}
    assert any(a["event"] == "member_joined" and a["subject"]["id"] == member.user["id"]
               for a in doc["audit_events"]), doc["audit_events"]
    for a in doc["audit_events"]:
        assert member.user["id"] in (a["actor"]["id"], a["subject"]["id"]), a

    text = r.text
    assert member.token not in text and "$2" not in text  # no token, no bcrypt hash
    assert "token" not in json.dumps(list(doc)) and "password" not in text
    assert owner.email not in text or any(
        owner.email in (a["actor"]["email"], a["subject"]["email"]) for a in doc["audit_events"])
    # the admin's and the owner's own telemetry are not the member's
    assert all(e["id"] for e in doc["telemetry_events"])


def test_export_needs_a_session(shared_stack):
    b = Browser(shared_stack)
    json_error(b.get("/api/me/export"), "unauthenticated", 401)


# ---- DELETE /api/me ---------------------------------------------------------------------

def test_member_erases_their_account(shared_stack):
    pg = shared_stack.pg
    owner, admin, member = make_team(shared_stack)
    uid, email, token = member.user["id"], member.email, member.token
    assert post_events(member, batch([event(), event("error")])).status_code == 202
    wait_audit(pg, owner.team["id"], lambda rows: any(s == uid for _, _, _, s, _ in rows),
               "the member in the trail")

    json_error(member.delete("/api/me", body={}), "validation_failed", 422)
    j = json_error(member.delete("/api/me", body={"password": "wrong " + PASSWORD}),
                   "validation_failed", 422)
    assert j["fields"] == {"password": "is incorrect"}
    json_error(member.delete("/api/me", body={"password": PASSWORD}, csrf=False),
               "csrf_mismatch", 419)  # CSRF as every unsafe route
    assert member.me().status_code == 200  # nothing happened yet

    r = member.delete("/api/me", body={"password": PASSWORD})
    assert r.status_code == 204, r.text
    assert member.token is None  # the cookie is cleared
    b = Browser(shared_stack)
    b.http.cookies.set("sembark_session", token)
    json_error(b.me(), "unauthenticated", 401)
    json_error(Browser(shared_stack).post("/api/login", {"email": email, "password": PASSWORD}),
               "invalid_credentials", 401)

    rows = wait_audit(pg, owner.team["id"], lambda rows: any(e == "account_erased"
                                                            for e, *_ in rows),
                      "the erasure in the trail")
    erased_everywhere(pg, uid, email)
    assert any(x[0] == "member_joined" and x[3] is None and x[4] == ERASED for x in rows), rows
    # the team and the others are untouched; the team lists one member less
    members = owner.get("/api/team").json()["members"]
    assert {m["id"] for m in members} == {owner.user["id"], admin.user["id"]}
    # the email is free again
    again = Browser(shared_stack)
    again.join(owner.invite_url, email=email)


def test_owner_with_members_cannot_leave(shared_stack):
    owner, _, _ = make_team(shared_stack)
    j = json_error(owner.delete("/api/me", body={"password": PASSWORD}), "team_has_members", 409)
    assert "delete the team" in j["message"]
    assert owner.me().status_code == 200


def test_owner_alone_takes_the_team(shared_stack):
    pg = shared_stack.pg
    owner = Browser(shared_stack)
    owner.signup()
    code = invite_code(owner.invite_url)
    r = owner.delete("/api/me", body={"password": PASSWORD})
    assert r.status_code == 204, r.text
    assert pg.query("SELECT count(*) FROM teams WHERE id = %s", (owner.team["id"],))[0][0] == 0
    json_error(Browser(shared_stack).get("/api/invites/%s" % code), "not_found", 404)
    erased_everywhere(pg, owner.user["id"], owner.email)


# ---- DELETE /api/team ---------------------------------------------------------------------

def test_owner_erases_the_team(shared_stack):
    pg = shared_stack.pg
    owner, admin, member = make_team(shared_stack)
    people = [(b.user["id"], b.email) for b in (owner, admin, member)]
    for b in (owner, member):
        assert post_events(b, batch([event()])).status_code == 202
    json_error(admin.delete("/api/team", body={"password": PASSWORD}), "forbidden", 403)
    json_error(member.delete("/api/team", body={"password": PASSWORD}), "forbidden", 403)
    j = json_error(owner.delete("/api/team", body={"password": "nope" + PASSWORD}),
                   "validation_failed", 422)
    assert j["fields"] == {"password": "is incorrect"}

    r = owner.delete("/api/team", body={"password": PASSWORD})
    assert r.status_code == 204, r.text
    for b in (owner, admin, member):
        assert b.me().status_code == 401
    json_error(Browser(shared_stack).get("/api/invites/%s" % invite_code(owner.invite_url)),
               "not_found", 404)
    rows = wait_audit(pg, owner.team["id"], lambda rows: any(e == "team_erased"
                                                            for e, *_ in rows),
                      "the team's erasure in the trail")
    for uid, email in people:
        erased_everywhere(pg, uid, email), (uid, email)
    assert all(a is None and s is None for _, a, _, s, _ in rows), rows
    assert pg.query("SELECT count(*) FROM teams WHERE id = %s", (owner.team["id"],))[0][0] == 0


# ---- writes under way at the erasure ------------------------------------------------------

def test_late_writes_bring_nothing_back(shared_stack):
    pg = shared_stack.pg
    owner, _, member = make_team(shared_stack)
    uid, tid = member.user["id"], owner.team["id"]
    # telemetryd: a batch of an id erased meanwhile stores nothing (the session still works
    # here because only the tombstone is written, as if the erasure committed mid-batch)
    pg.query("INSERT INTO erased_users (user_id, team_id) VALUES (%s, %s)", (uid, tid))
    r = post_events(member, batch([event(), event()]))
    assert r.status_code == 202 and r.json()["accepted"] == 0, r.text
    # logd: an audit row naming an erased id is stored with the placeholder
    pg.query("INSERT INTO audit_events (at, team_id, event, actor_id, actor_email, subject_id, "
             "subject_email) VALUES (now(), %s, 'member_joined', %s, %s, %s, %s)",
             (tid, owner.user["id"], owner.email, uid, member.email))
    row = pg.query("SELECT actor_id::text, actor_email, subject_id, subject_email "
                   "FROM audit_events WHERE team_id = %s AND subject_email = %s",
                   (tid, ERASED))
    assert (owner.user["id"], owner.email, None, ERASED) in row, row
    # the sweep erases what got in before the tombstone
    pg.query("INSERT INTO telemetry_events (id, team_id, user_id, type, occurred_at) "
             "VALUES (gen_random_uuid(), %s, %s, 'sign_in', now())", (tid, uid))
    assert pg.query("SELECT sembark_erasure_sweep()")[0][0] >= 1
    assert pg.query("SELECT count(*) FROM telemetry_events WHERE user_id = %s", (uid,))[0][0] == 0
    # and forgets ids older than a day
    pg.query("UPDATE erased_users SET erased_at = now() - interval '25 hours' WHERE user_id = %s",
             (uid,))
    pg.query("SELECT sembark_erasure_sweep()")
    assert pg.query("SELECT count(*) FROM erased_users WHERE user_id = %s", (uid,))[0][0] == 0


def test_authd_cannot_reach_other_tables(shared_stack):
    """The functions are authd's only way into telemetry and audit: its role still cannot
    read or change them directly, and nobody else may call the functions."""
    pg = shared_stack.pg
    pw = open(shared_stack.sec.files["authd"]).read().strip()
    for sql in ("SELECT count(*) FROM telemetry_events", "SELECT count(*) FROM audit_events",
                "DELETE FROM telemetry_seen"):
        with pytest.raises(Exception, match=r"permission denied"):
            pg.query(sql, user="sembark_authd", password=pw)
    pw = open(shared_stack.sec.files["telemetryd"]).read().strip()
    with pytest.raises(Exception, match=r"permission denied"):
        pg.query("SELECT sembark_export_user(gen_random_uuid())", user="sembark_telemetryd",
                 password=pw)
    assert re.match(r"^\d+$", str(pg.query("SELECT sembark_erasure_sweep()")[0][0]))
