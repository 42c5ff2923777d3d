"""test_audit.py - the audit trail end to end (API.md "Audit trail and
retention"): events authd writes into audit_outbox reach audit_events through logd;
GET /api/audit answers owners and admins (403 for a member, 401 without a
session) with this team's events only, newest first, {id, at, event,
actor, subject}; each account action is followed by its event; stable
cursor paging while events keep arriving; limit/before validation (422);
503 when logd is away; and nothing in an answer looks like an address,
a token or a password.

Tests marked with `accounts` drive the real account API; they are skipped
while authd does not serve it. The others talk to logd directly (events
written into the outbox as authd does, api.call audit.list as ingressd does)."""

import datetime
import json
import re
import time

import pytest

import sembark
from audit_client import (EVENTS, Logd, audit_body, new_id, push_audit, read_audit, stored_audit,
                          wait_stored_audit)
from client import PASSWORD, Browser, accounts_available, new_email

pytestmark = pytest.mark.skipif(not sembark.have_zmq(),
                                reason="python3-zmq/python3-msgpack not installed")

RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$")
TOKEN_RE = re.compile(r"[0-9a-fA-F]{32,}")


def person(p):
    return None if p is None else (p["id"], p["email"])


def check_shape(page):
    assert set(page) == {"events", "next"}, page
    assert page["next"] is None or (isinstance(page["next"], str) and page["next"]), page
    for e in page["events"]:
        assert set(e) == {"id", "at", "event", "actor", "subject"}, e
        assert isinstance(e["id"], str) and e["id"], e
        assert RFC3339.match(e["at"]), e
        assert e["event"] in EVENTS, e
        for k in ("actor", "subject"):
            assert e[k] is None or set(e[k]) == {"id", "email"}, e
        text = json.dumps(e)
        assert sembark.find_ip_addresses(text) == [], e
        assert not TOKEN_RE.search(text), e  # UUIDs have dashes; tokens and hashes do not
        assert PASSWORD not in text, e


def all_pages(logd, team, limit, role="owner"):
    out, cursor = [], None
    for _ in range(1000):
        q = "limit=%d" % limit + ("&before=" + cursor if cursor else "")
        st, page = logd.audit_list(team, role, q)
        assert st == 200, (st, page)
        check_shape(page)
        assert len(page["events"]) <= limit
        out += page["events"]
        cursor = page["next"]
        if cursor is None:
            return out
    raise AssertionError("paging did not end")


# ---- straight to logd ----------------------------------------------------------

def test_pushed_events_are_stored(stack, pg):
    team, actor, subject = new_id(), (new_id(), "a@example.com"), (new_id(), "s@example.com")
    t0 = int(time.time() * 1e6) - 5_000_000
    push_audit(stack, [audit_body(e, team, actor, subject if i % 2 else None, t0 + i)
                       for i, e in enumerate(EVENTS)])
    rows = wait_stored_audit(pg, team, len(EVENTS))
    assert [r[2] for r in rows] == list(reversed(EVENTS))
    for i, r in enumerate(reversed(rows)):
        assert (r[3], r[4]) == actor
        assert (r[5], r[6]) == (subject if i % 2 else (None, None))
        want = datetime.datetime.fromtimestamp((t0 + i) / 1e6, datetime.timezone.utc)
        assert abs((r[1] - want).total_seconds()) < 1e-5, (r[1], want)


def test_list_newest_first_shape(stack, pg):
    team, other = new_id(), new_id()
    actor = (new_id(), "owner@example.com")
    t0 = int(time.time() * 1e6) - 60_000_000
    push_audit(stack, [audit_body("login", team, actor, actor, t0 + i * 1000) for i in range(5)] +
               [audit_body("logout", other, actor, None, t0 + 10)])
    wait_stored_audit(pg, team, 5)
    with Logd(stack) as logd:
        st, page = logd.audit_list(team, "owner")
        assert st == 200, page
        check_shape(page)
        assert page["next"] is None
        assert len(page["events"]) == 5
        ats = [e["at"] for e in page["events"]]
        assert ats == sorted(ats, reverse=True), ats
        assert all(e["event"] == "login" for e in page["events"])
        assert person(page["events"][0]["actor"]) == actor
        st, page = logd.audit_list(team, "admin")
        assert st == 200 and len(page["events"]) == 5
        st, page = logd.audit_list(new_id(), "owner")
        assert st == 200 and page == {"events": [], "next": None}


def test_member_forbidden(shared_stack):
    with Logd(shared_stack) as logd:
        for role in ("member", "", "Owner", "superuser"):
            st, body = logd.audit_list(new_id(), role)
            assert st == 403 and body["error"] == "forbidden", (role, st, body)
        st, body = logd.audit_list("not-a-team", "owner")
        assert st == 403, body
        st, body = logd.audit_list(new_id(), "owner", op="telemetry.summary")
        assert st == 404, body


@pytest.mark.parametrize("query,field", [
    ("limit=0", "limit"), ("limit=101", "limit"), ("limit=abc", "limit"), ("limit=", "limit"),
    ("limit=-5", "limit"), ("limit=1.5", "limit"), ("limit=5&limit=6", "limit"),
    ("before=abc", "before"), ("before=", "before"), ("before=MTIz", "before"),
    ("limit=10&before=%%%", "before"), ("before=" + "A" * 200, "before"),
])
def test_validation(shared_stack, query, field):
    with Logd(shared_stack) as logd:
        st, body = logd.audit_list(new_id(), "owner", query)
    assert st == 422, (query, st, body)
    assert body["error"] == "validation_failed" and isinstance(body["message"], str), body
    assert list(body["fields"]) == [field], body


def test_limits(stack, pg):
    team = new_id()
    t0 = int(time.time() * 1e6) - 120_000_000
    push_audit(stack, [audit_body("login", team, (new_id(), "u%d@example.com" % i), None, t0 + i)
                       for i in range(130)])
    wait_stored_audit(pg, team, 130)
    with Logd(stack) as logd:
        st, page = logd.audit_list(team, "owner")
        assert st == 200 and len(page["events"]) == 50 and page["next"], "default limit 50"
        st, page = logd.audit_list(team, "owner", "limit=100")
        assert st == 200 and len(page["events"]) == 100 and page["next"]
        st, page = logd.audit_list(team, "owner", "limit=1&unknown=1")
        assert st == 200 and len(page["events"]) == 1
        assert page["events"][0]["actor"]["email"] == "u129@example.com"


def test_paging_stable_while_events_arrive(stack, pg):
    team = new_id()
    t0 = int(time.time() * 1e6) - 600_000_000
    n = 57
    # some events share a timestamp: the id breaks the tie
    push_audit(stack, [audit_body(EVENTS[i % len(EVENTS)], team, (new_id(), "p%d@example.com" % i),
                                  None, t0 + (i // 3) * 1000) for i in range(n)])
    rows = wait_stored_audit(pg, team, n)
    snapshot = [str(r[0]) for r in rows]
    with Logd(stack) as logd:
        got, cursor = [], None
        for page_no in range(100):
            q = "limit=7" + ("&before=" + cursor if cursor else "")
            st, page = logd.audit_list(team, "owner", q)
            assert st == 200, page
            check_shape(page)
            got += [e["id"] for e in page["events"]]
            # new events arrive between pages, as now
            push_audit(stack, [audit_body("login", team, (new_id(), "late%d@example.com" % page_no))])
            wait_stored_audit(pg, team, n + page_no + 1)
            cursor = page["next"]
            if cursor is None:
                break
    assert len(got) == len(set(got)), "an event was listed twice"
    assert got == snapshot, "pages do not add up to the events stored before paging began"


def test_isolation(stack, pg):
    teams = [new_id() for _ in range(3)]
    push_audit(stack, [audit_body("login", t, (new_id(), "iso-%d-%d@example.com" % (k, i)))
                       for k, t in enumerate(teams) for i in range(12)])
    for t in teams:
        wait_stored_audit(pg, t, 12)
    with Logd(stack) as logd:
        for k, t in enumerate(teams):
            events = all_pages(logd, t, 5)
            assert len(events) == 12
            assert all(e["actor"]["email"].startswith("iso-%d-" % k) for e in events), events
            mine = {str(r[0]) for r in stored_audit(pg, t)}
            assert {e["id"] for e in events} == mine


def test_cursor_from_another_team_shows_nothing_of_it(stack, pg):
    a, b = new_id(), new_id()
    push_audit(stack, [audit_body("login", a, (new_id(), "a%d@example.com" % i)) for i in range(4)] +
               [audit_body("login", b, (new_id(), "b%d@example.com" % i)) for i in range(4)])
    wait_stored_audit(pg, a, 4)
    wait_stored_audit(pg, b, 4)
    with Logd(stack) as logd:
        st, page = logd.audit_list(a, "owner", "limit=2")
        assert st == 200 and page["next"]
        st, other = logd.audit_list(b, "owner", "limit=10&before=" + page["next"])
        assert st == 200
        assert all(e["actor"]["email"].startswith("b") for e in other["events"]), other


def test_outbox_refuses_malformed_events(stack, pg):
    """authd's outbox (migrations/0008) takes only well-formed events: PostgreSQL
    refuses the rest, so logd never reads one; the good one is moved."""
    team = new_id()
    good = audit_body("login", team, (new_id(), "good@example.com"))
    bad = [
        audit_body("Made-Up!", team),
        audit_body("", team),
        audit_body("login", "not-a-uuid"),
        audit_body("login", team, ("42", "x@example.com")),
        audit_body("login", team, (new_id(), "x" * 250 + "@example.com")),
        {k: v for k, v in audit_body("login", team).items() if k != "team_id"},
    ]
    for b in bad:
        with pytest.raises(Exception, match="violates|invalid input syntax|KeyError|null value"):
            push_audit(stack, [dict(b, team_id=b.get("team_id"))])
    push_audit(stack, [good])
    rows = wait_stored_audit(pg, team, 1)
    assert len(rows) == 1 and rows[0][4] == "good@example.com", rows
    assert stack.daemons["logd"].running()


def test_outbox_privileges(stack):
    """authd may only INSERT into the outbox; logd may only read and delete it."""
    authd = dict(user=sembark.ROLES["authd"], password=stack.sec.passwords["authd"])
    logd = dict(user=sembark.ROLES["logd"], password=stack.sec.passwords["logd"])
    for sql, who in (("SELECT * FROM audit_outbox", authd),
                     ("DELETE FROM audit_outbox", authd),
                     ("UPDATE audit_outbox SET event = 'login'", authd),
                     ("SELECT * FROM audit_events", authd),
                     ("INSERT INTO audit_outbox (event, team_id) VALUES ('login', gen_random_uuid())",
                      logd),
                     ("UPDATE audit_outbox SET event = 'login'", logd)):
        with pytest.raises(Exception, match="permission denied"):
            stack.pg.query(sql, **who)
    assert stack.pg.query("SELECT count(*) FROM audit_outbox WHERE false", **logd) == [(0,)]


def test_logd_down_is_503(stack):
    if not accounts_available(stack):
        pytest.skip("authd does not serve the account API yet")
    b = Browser(stack)
    b.signup()
    assert read_audit(b).status_code == 200
    stack.kill("logd")
    t0 = time.monotonic()
    r = read_audit(b)
    assert time.monotonic() - t0 < 5, "no answer within the RPC deadline"
    sembark.assert_json_error(r, "service_unavailable", 503)
    stack.start("logd")
    sembark.wait_until(lambda: read_audit(b).status_code == 200, 10, what="GET /api/audit 200 again")
    b.close()


# ---- through the account API ---------------------------------------------------------

def newest(browser, n=1):
    r = read_audit(browser, "limit=%d" % n)
    assert r.status_code == 200, (r.status_code, r.text)
    assert r.headers.get("Cache-Control", "").find("no-store") >= 0
    page = r.json()
    check_shape(page)
    return page["events"]


def wait_event(browser, event, actor=None, subject=None, after=None, timeout=10):
    """Wait until the newest events of the team include `event` (newer than
    the id `after`), with this actor and subject ((id, email) or None)."""
    def find():
        for e in newest(browser, 20):
            if after is not None and e["id"] == after:
                return None
            if e["event"] != event:
                continue
            if actor is not ... and person(e["actor"]) != actor:
                continue
            if subject is not ... and person(e["subject"]) != subject:
                continue
            return e
        return None
    return sembark.wait_until(find, timeout, interval=0.1,
                              what="audit event %s (actor %s, subject %s)" % (event, actor, subject))


def top_id(browser):
    ev = newest(browser)
    return ev[0]["id"] if ev else None


def test_account_actions_are_audited(stack, pg):
    if not accounts_available(stack):
        pytest.skip("authd does not serve the account API yet")
    owner = Browser(stack)
    owner.signup()
    me = (owner.user["id"], owner.email)
    wait_event(owner, "team_created", actor=me, subject=...)

    member = Browser(stack)
    member.join(owner.invite_url)
    them = (member.user["id"], member.email)
    wait_event(owner, "member_joined", actor=..., subject=them)

    # login, and a failed login of a known account
    second = Browser(stack)
    last = top_id(owner)
    assert second.login(owner.email, PASSWORD, expect=None).status_code == 200
    wait_event(owner, "login", actor=me, subject=..., after=last)
    bad = Browser(stack)
    last = top_id(owner)
    r = bad.login(member.email, "wrong password, surely 1", expect=None)
    assert r.status_code == 401, r.text
    wait_event(owner, "login_failed", actor=..., subject=them, after=last)

    # the member may not read the trail
    r = read_audit(member)
    sembark.assert_json_error(r, "forbidden", 403)

    last = top_id(owner)
    r = owner.post("/api/team/invite/rotate")
    assert r.status_code == 200, r.text
    wait_event(owner, "invite_rotated", actor=me, subject=..., after=last)

    last = top_id(owner)
    r = owner.patch("/api/team/members/%s" % member.user["id"], {"role": "admin"})
    assert r.status_code == 200, r.text
    wait_event(owner, "role_changed", actor=me, subject=them, after=last)
    # an admin may read it
    assert read_audit(member).status_code == 200

    last = top_id(owner)
    sessions = second.get("/api/sessions").json()["sessions"]
    other = [s for s in sessions if not s["current"]]
    assert other, sessions
    r = second.delete("/api/sessions/%s" % other[0]["id"])
    assert r.status_code == 204, r.text
    wait_event(second, "session_revoked", actor=me, subject=..., after=last)

    last = top_id(second)
    r = second.post("/api/password", {"current_password": PASSWORD,
                                      "new_password": PASSWORD + " changed"})
    assert r.status_code == 204, r.text
    wait_event(second, "password_changed", actor=me, subject=..., after=last)

    last = top_id(second)
    r = second.logout(expect=None)
    assert r.status_code == 204, r.text
    owner = Browser(stack)
    assert owner.login(me[1], PASSWORD + " changed", expect=None).status_code == 200
    wait_event(owner, "logout", actor=me, subject=..., after=last)

    last = top_id(owner)
    r = owner.delete("/api/team/members/%s" % member.user["id"])
    assert r.status_code == 204, r.text
    wait_event(owner, "member_removed", actor=me, subject=them, after=last)

    # every event of API.md was seen, none of it holds a token or a password
    seen = {r[2] for r in stored_audit(pg, owner_team(pg, me[0]))}
    assert set(EVENTS) <= seen, set(EVENTS) - seen
    dump = json.dumps([list(map(str, r)) for r in stored_audit(pg, owner_team(pg, me[0]))])
    assert PASSWORD not in dump and sembark.find_ip_addresses(dump) == []


def owner_team(pg, user):
    return str(pg.query("SELECT team_id FROM users WHERE id = %s", (user,))[0][0])


def test_http_paging_isolation_and_errors(stack, pg):
    if not accounts_available(stack):
        pytest.skip("authd does not serve the account API yet")
    a, b = Browser(stack), Browser(stack)
    a.signup(email=new_email("it-audit-a"))
    b.signup(email=new_email("it-audit-b"))
    push_audit(stack, [audit_body("login", a.team["id"], (new_id(), "pa%d@example.com" % i))
                       for i in range(23)])
    wait_stored_audit(pg, a.team["id"], 24)
    got, cursor = [], None
    for _ in range(20):
        r = read_audit(a, "limit=5" + ("&before=" + cursor if cursor else ""))
        assert r.status_code == 200, r.text
        page = r.json()
        check_shape(page)
        got += page["events"]
        cursor = page["next"]
        if not cursor:
            break
    assert len(got) == len({e["id"] for e in got}) == len(stored_audit(pg, a.team["id"]))
    ev_b = read_audit(b).json()["events"]
    assert [e["event"] for e in ev_b] == ["team_created"], ev_b
    assert not {e["id"] for e in ev_b} & {e["id"] for e in got}
    sembark.assert_json_error(read_audit(a, "limit=0"), "validation_failed", 422)
    assert list(read_audit(a, "limit=500").json()["fields"]) == ["limit"]
    assert list(read_audit(a, "before=nope").json()["fields"]) == ["before"]
    anon = Browser(stack)
    sembark.assert_json_error(read_audit(anon), "unauthenticated", 401)
    r = stack.request("GET", "/api/audit", headers={"Authorization": "Bearer " + "0" * 40})
    sembark.assert_json_error(r, "unauthenticated", 401)
    r = stack.request("POST", "/api/audit", headers={"Origin": stack.origin})
    sembark.assert_json_error(r, "method_not_allowed", 405)


def test_bearer_token_reads_trail(stack):
    if not accounts_available(stack):
        pytest.skip("authd does not serve the account API yet")
    a = Browser(stack)
    a.signup(email=new_email("it-audit-bearer"))
    r = stack.request("POST", "/api/tokens", json={"email": a.email, "password": PASSWORD,
                                                    "device_name": "it"})
    assert r.status_code == 201, r.text
    tok = r.json()["token"]

    def login_listed():
        r = stack.request("GET", "/api/audit?limit=3", headers={"Authorization": "Bearer " + tok})
        assert r.status_code == 200, r.text
        page = r.json()
        check_shape(page)
        assert tok not in r.text
        return page["events"] and page["events"][0]["event"] == "login"
    sembark.wait_until(login_listed, 10, interval=0.1, what="the token's login event, by Bearer")
