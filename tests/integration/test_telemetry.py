"""test_telemetry.py - POST /api/telemetry/events and GET /api/telemetry/summary
as API.md "Telemetry" promises, through ingressd with real sessions:

  - the HTTP layer: session (cookie + CSRF, or Bearer), 401/419/403/413/415/400/405
  - every validation rule: body-level problems are 422 with "fields", per-event
    problems reject that event alone (202 with "rejected"), 422 when none is left
  - dedupe: a re-sent id is a duplicate and stored once, also within one batch
    and across users
  - the summary: shape, counts per day and type, lists sorted and capped,
    ?days= bounds, owner/admin only, one team only
  - sign_in / sign_out recorded by the server on sign-up, login, token, logout
  - privacy: only API.md's fields are stored: no IP address, no user agent

Events are checked in the telemetry_events table directly (as the owner).
"""

import datetime
import json
import time
import uuid

import pytest

import sembark
import telemetry_client as tc
from client import Bearer, Browser
from telemetry_client import batch, event


@pytest.fixture(scope="module")
def owner(shared_stack):
    b = Browser(shared_stack)
    b.signup("it telemetry team")
    b.native = b.bearer()
    yield b
    b.native.close()
    b.close()


def post(stack, owner, body):
    r = tc.post_events(owner.native, body)
    assert r.headers.get("Content-Type", "").startswith("application/json"), r.headers
    return r


def ok(stack, owner, body, accepted, duplicates=0, rejected=()):
    r = post(stack, owner, body)
    assert r.status_code == 202, (r.status_code, r.text)
    j = r.json()
    assert j["accepted"] == accepted and j["duplicates"] == duplicates, j
    assert [x["index"] for x in j["rejected"]] == list(rejected), j
    return j


def ids_stored(pg, ids):
    rows = pg.query("SELECT id::text, count(*) FROM telemetry_events WHERE id = ANY(%s::uuid[]) "
                    "GROUP BY 1", (list(ids),))
    return dict(rows)


# ---- HTTP layer ------------------------------------------------------------------------

def test_events_need_a_session(shared_stack):
    r = shared_stack.request("POST", "/api/telemetry/events", json=batch([event()]),
                             headers={"Origin": shared_stack.origin})
    sembark.assert_json_error(r, "unauthenticated", 401)
    r = tc.post_events(Bearer(shared_stack, "0" * 40), batch([event()]))
    sembark.assert_json_error(r, "unauthenticated", 401)
    r = tc.post_events(Bearer(shared_stack, "not-a-token"), batch([event()]))
    sembark.assert_json_error(r, "unauthenticated", 401)


def test_cookie_session_needs_csrf(shared_stack, pg):
    b = Browser(shared_stack)
    try:
        b.signup()
        e = event()
        r = tc.post_events(b, batch([e]), csrf=False, headers={"Origin": shared_stack.origin})
        sembark.assert_json_error(r, "csrf_mismatch", 419)
        r = tc.post_events(b, batch([e]), headers={"X-XSRF-TOKEN": "forged"})
        sembark.assert_json_error(r, "csrf_mismatch", 419)
        r = tc.post_events(b, batch([e]), headers={"Origin": "http://evil.example"})
        sembark.assert_json_error(r, "origin_mismatch", 403)
        assert ids_stored(pg, [e["id"]]) == {}
        r = tc.post_events(b, batch([e]))
        assert r.status_code == 202, r.text
        assert r.json() == {"accepted": 1, "duplicates": 0, "rejected": []}
        assert ids_stored(pg, [e["id"]]) == {e["id"]: 1}
        assert sembark.security_header_problems(r) == []
        assert r.headers.get("Cache-Control") == "no-store"
    finally:
        b.close()


def test_bearer_needs_no_csrf(shared_stack, owner, pg):
    e = event()
    ok(shared_stack, owner, batch([e]), 1)
    row = [x for x in tc.stored(pg, owner.user["id"]) if x["id"] == e["id"]]
    assert len(row) == 1 and row[0]["team_id"] == owner.team["id"], row


def test_http_errors(shared_stack, owner):
    h = {"Authorization": "Bearer " + owner.native.token}
    r = tc.post_events(owner.native, "{not json")
    sembark.assert_json_error(r, "bad_request", 400)
    r = tc.post_events(owner.native, "[1, 2]")
    sembark.assert_json_error(r, "bad_request", 400)
    r = tc.post_events(owner.native, json.dumps(batch([event()])),
                       headers={"Content-Type": "text/plain"})
    sembark.assert_json_error(r, "unsupported_media_type", 415)
    r = shared_stack.request("GET", "/api/telemetry/events", headers=h)
    sembark.assert_json_error(r, "method_not_allowed", 405)
    r = shared_stack.request("POST", "/api/telemetry/summary", headers=h)
    sembark.assert_json_error(r, "method_not_allowed", 405)


def test_body_limit(shared_stack, owner):
    """1 MiB by default for telemetry: 500 events with long attrs fit, more is 413."""
    big = batch([event("error", attrs={"k%d" % i: "x" * 256 for i in range(8)})
                 for _ in range(300)])
    text = json.dumps(big)
    assert 512 * 1024 < len(text) < 1024 * 1024
    r = tc.post_events(owner.native, text)
    assert r.status_code == 202 and r.json()["accepted"] == 300, r.text[:300]
    r = tc.post_events(owner.native, text + " " * (1024 * 1024 - len(text) + 1))
    sembark.assert_json_error(r, "payload_too_large", 413)


# ---- validation: the whole body ---------------------------------------------------------------

BODY_CASES = [
    ("no client", lambda b: b.pop("client"), "client"),
    ("client null", lambda b: b.update(client=None), "client"),
    ("client string", lambda b: b.update(client="2.4.1"), "client"),
    ("app_version missing", lambda b: b["client"].pop("app_version"), "client.app_version"),
    ("app_version empty", lambda b: b["client"].update(app_version=""), "client.app_version"),
    ("app_version 65", lambda b: b["client"].update(app_version="v" * 65), "client.app_version"),
    ("app_version number", lambda b: b["client"].update(app_version=2), "client.app_version"),
    ("os_version missing", lambda b: b["client"].pop("os_version"), "client.os_version"),
    ("os_version 65", lambda b: b["client"].update(os_version="é" * 65), "client.os_version"),
    ("display missing", lambda b: b["client"].pop("display"), "client.display"),
    ("width 0", lambda b: b["client"]["display"].update(width=0), "client.display.width"),
    ("width 20001", lambda b: b["client"]["display"].update(width=20001), "client.display.width"),
    ("height 0", lambda b: b["client"]["display"].update(height=0), "client.display.height"),
    ("height 20001", lambda b: b["client"]["display"].update(height=20001), "client.display.height"),
    ("height float", lambda b: b["client"]["display"].update(height=1.5), "client.display.height"),
    ("height string", lambda b: b["client"]["display"].update(height="9"), "client.display.height"),
    ("client extra", lambda b: b["client"].update(device_id="abc"), "client.device_id"),
    ("no events", lambda b: b.pop("events"), "events"),
    ("events object", lambda b: b.update(events={}), "events"),
    ("events empty", lambda b: b.update(events=[]), "events"),
    ("events 501", lambda b: b.update(events=[event("crash") for _ in range(501)]), "events"),
    ("top-level extra", lambda b: b.update(ip="203.0.113.7"), "ip"),
]


@pytest.mark.parametrize("name,mutate,field", BODY_CASES, ids=[c[0] for c in BODY_CASES])
def test_body_validation(shared_stack, owner, pg, name, mutate, field):
    body = batch([event("crash")])
    first = body["events"][0]["id"]
    mutate(body)
    r = post(shared_stack, owner, body)
    j = sembark.assert_json_error(r, "validation_failed", 422)
    assert field in j.get("fields", {}), j
    assert ids_stored(pg, [first]) == {}


def test_body_bounds_accepted(shared_stack, owner, pg):
    c = {"app_version": "v" * 64, "os_version": "é" * 64, "display": {"width": 1, "height": 20000}}
    evs = [event("crash") for _ in range(500)]
    ok(shared_stack, owner, batch(evs, client=c), 500)
    assert len(ids_stored(pg, [e["id"] for e in evs])) == 500
    c = {"app_version": "1", "os_version": "x", "display": {"width": 20000, "height": 1}}
    ok(shared_stack, owner, batch([event("crash")], client=c), 1)


# ---- validation: one event -------------------------------------------------------------------------

def _drop(key):
    return lambda e: e.pop(key)


def _set(**kw):
    return lambda e: e.update(kw)


def _attrs(**kw):
    return lambda e: e["attrs"].update(kw)


EVENT_CASES = [
    ("not an object", lambda e: None, "event"),
    ("no id", _drop("id"), "id"),
    ("id not uuid", _set(id="0b5c6a8e4a434c439a3e6f1c1b9d2f10"), "id"),
    ("id number", _set(id=7), "id"),
    ("no type", _drop("type"), "type"),
    ("type unknown", _set(type="page_view"), "type"),
    ("type sign_in", _set(type="sign_in", attrs={}), "sign_in"),
    ("type sign_out", _set(type="sign_out", attrs={}), "sign_out"),
    ("no occurred_at", _drop("occurred_at"), "occurred_at"),
    ("occurred_at garbage", _set(occurred_at="yesterday"), "occurred_at"),
    ("occurred_at no zone", _set(occurred_at="2026-11-29T04:00:00"), "occurred_at"),
    ("occurred_at epoch", _set(occurred_at=1795928400), "occurred_at"),
    ("occurred_at 7 days 1 minute ago", lambda e: e.update(occurred_at=tc.now_minus(days=7, minutes=1)),
     "occurred_at"),
    ("occurred_at 6 minutes ahead", lambda e: e.update(occurred_at=tc.now_minus(minutes=-6)), "occurred_at"),
    ("attrs list", _set(attrs=["feature"]), "attrs"),
    ("attrs null", _set(attrs=None), "attrs"),
    ("attrs 17 keys", lambda e: e["attrs"].update({"k%d" % i: i for i in range(16)}), "attrs"),
    ("attrs value null", _attrs(extra=None), "attrs.extra"),
    ("attrs value object", _attrs(extra={"a": 1}), "attrs.extra"),
    ("attrs value list", _attrs(extra=[1]), "attrs.extra"),
    ("attrs string 257", _attrs(extra="x" * 257), "attrs.extra"),
    ("feature missing", lambda e: e["attrs"].pop("feature"), "attrs.feature"),
    ("feature not string", _attrs(feature=3), "attrs.feature"),
    ("unknown field", _set(ip="203.0.113.7"), "ip"),
    ("unknown field device", _set(device_id="d-1"), "device_id"),
]


@pytest.mark.parametrize("name,mutate,why", EVENT_CASES, ids=[c[0] for c in EVENT_CASES])
def test_event_validation(shared_stack, owner, pg, name, mutate, why):
    good, bad = event(), event()
    if name == "not an object":
        bad = "crash"
    else:
        mutate(bad)
    j = ok(shared_stack, owner, batch([good, bad]), 1, 0, [1])
    assert why in j["rejected"][0]["error"], j
    # alone it is 422, and nothing is stored
    r = post(shared_stack, owner, batch([bad]))
    j = sembark.assert_json_error(r, "validation_failed", 422)
    assert [x["index"] for x in j["rejected"]] == [0], j
    if isinstance(bad, dict) and isinstance(bad.get("id"), str) and len(bad["id"]) == 36:
        assert ids_stored(pg, [bad["id"]]) == {}


TYPE_CASES = [
    ("network_status online missing", "network_status", {}, "attrs.online"),
    ("network_status online string", "network_status", {"online": "true"}, "attrs.online"),
    ("network_status online number", "network_status", {"online": 1}, "attrs.online"),
    ("connectivity state missing", "connectivity", {}, "attrs.state"),
    ("connectivity state other", "connectivity", {"state": "offline"}, "attrs.state"),
    ("connectivity state case", "connectivity", {"state": "Connected"}, "attrs.state"),
    ("feature_interaction no attrs", "feature_interaction", None, "attrs.feature"),
]


@pytest.mark.parametrize("name,type_,attrs,why", TYPE_CASES, ids=[c[0] for c in TYPE_CASES])
def test_type_rules(shared_stack, owner, name, type_, attrs, why):
    bad = event(type_, attrs=attrs if attrs is not None else {})
    if attrs is None:
        bad.pop("attrs")
    j = ok(shared_stack, owner, batch([event(), bad]), 1, 0, [1])
    assert why in j["rejected"][0]["error"], j


def test_every_type_and_bound_accepted(shared_stack, owner, pg):
    evs = [
        event("feature_interaction", attrs={"feature": "x" * 256}),
        event("crash"),
        event("crash", attrs=None),
        event("error", attrs={"code": 500, "fatal": False, "ratio": 0.25, "msg": "é" * 256}),
        event("network_status", attrs={"online": True}),
        event("network_status", attrs={"online": False}),
        event("connectivity", attrs={"state": "connected"}),
        event("connectivity", attrs={"state": "disconnected"}),
        event("connectivity", attrs={"state": "reconnecting"}),
        event("crash", attrs={"k%02d" % i: i for i in range(16)}),
        event("crash", occurred_at=tc.now_minus(days=6, hours=23, minutes=58)),
        event("crash", occurred_at=tc.now_minus(minutes=-4)),
        event("crash", id_=str(uuid.uuid4()).upper()),
        event("crash", occurred_at=(datetime.datetime.now(datetime.timezone(datetime.timedelta(hours=-5)))
                                    - datetime.timedelta(seconds=3)).isoformat()),
    ]
    evs[2].pop("attrs")
    ok(shared_stack, owner, batch(evs), len(evs))
    got = ids_stored(pg, [e["id"].lower() for e in evs])
    assert len(got) == len(evs) and set(got.values()) == {1}, got
    rows = {r["id"]: r for r in tc.stored(pg, owner.user["id"])}
    assert rows[evs[2]["id"]]["attrs"] == {}
    assert rows[evs[3]["id"]]["attrs"] == evs[3]["attrs"]
    assert evs[12]["id"].lower() in rows  # stored lower-case


def test_mixed_batch_answer(shared_stack, owner):
    evs = [event(), event("sign_in", attrs={}), event(), "x", event("crash", id_="nope")]
    j = ok(shared_stack, owner, batch(evs), 2, 0, [1, 3, 4])
    assert all(isinstance(x["error"], str) and x["error"] for x in j["rejected"])


# ---- dedupe ------------------------------------------------------------------------------------------

def test_resent_ids_are_duplicates(shared_stack, owner, pg):
    evs = [event() for _ in range(10)]
    ok(shared_stack, owner, batch(evs), 10, 0)
    ok(shared_stack, owner, batch(evs), 0, 10)
    more = [event() for _ in range(5)]
    ok(shared_stack, owner, batch(evs[:3] + more), 5, 3)
    # the same id twice in one batch: stored once
    twin = event()
    ok(shared_stack, owner, batch([twin, dict(twin), event()]), 2, 1)
    # a re-send with another occurred_at (even another day) is still a duplicate
    moved = dict(evs[0], occurred_at=tc.now_minus(days=3))
    ok(shared_stack, owner, batch([moved]), 0, 1)
    # upper-case spelling of a stored id is the same id
    ok(shared_stack, owner, batch([dict(evs[1], id=evs[1]["id"].upper())]), 0, 1)
    got = ids_stored(pg, [e["id"] for e in evs + more + [twin]])
    assert len(got) == 16 and set(got.values()) == {1}, got


def test_duplicates_only_is_202(shared_stack, owner):
    evs = [event() for _ in range(3)]
    ok(shared_stack, owner, batch(evs), 3)
    ok(shared_stack, owner, batch(evs + [event("sign_out", attrs={})]), 0, 3, [3])


def test_same_id_other_user_is_not_a_duplicate(shared_stack, owner, pg):
    other = Browser(shared_stack)
    try:
        other.signup("it other team")
        e = event()
        ok(shared_stack, owner, batch([e]), 1)
        r = tc.post_events(other, batch([e]))
        assert r.status_code == 202 and r.json()["accepted"] == 1, r.text
        assert ids_stored(pg, [e["id"]]) == {e["id"]: 2}
    finally:
        other.close()


# ---- summary -------------------------------------------------------------------------------------------

def today(offset=0):
    return (datetime.datetime.now(datetime.timezone.utc).date() - datetime.timedelta(days=offset)).isoformat()


def test_summary_shape_and_counts(shared_stack, pg):
    own = Browser(shared_stack)
    mem = Browser(shared_stack)
    try:
        own.signup("it summary team")
        mem.join(own.invite_url)
        c1 = {"app_version": "2.4.1", "os_version": "macOS 14.5", "display": {"width": 2560, "height": 1440}}
        c2 = {"app_version": "2.5.0", "os_version": "Windows 11", "display": {"width": 1920, "height": 1080}}
        two_days = tc.now_minus(days=2)
        r = tc.post_events(own, batch([event("feature_interaction", attrs={"feature": "invite.copy"}),
                                       event("feature_interaction", attrs={"feature": "invite.copy"}),
                                       event("feature_interaction", attrs={"feature": "team.view"}),
                                       event("crash", occurred_at=two_days)], client=c1))
        assert r.status_code == 202 and r.json()["accepted"] == 4, r.text
        r = tc.post_events(mem, batch([event("feature_interaction", attrs={"feature": "invite.copy"}),
                                       event("network_status"), event("connectivity"), event("error")],
                                      client=c2))
        assert r.status_code == 202 and r.json()["accepted"] == 4, r.text
        r = tc.post_events(mem, batch([event("crash")], client=c1))
        assert r.status_code == 202, r.text

        # sign-up and invite acceptance were sign_ins, recorded by the server
        sembark.wait_until(lambda: pg.query(
            "SELECT count(*) FROM telemetry_events WHERE team_id = %s AND type = 'sign_in'",
            (own.team["id"],))[0][0] == 2, 5, what="two sign_in events")

        r = tc.get_summary(own)
        assert r.status_code == 200, r.text
        assert r.headers.get("Cache-Control") == "no-store"
        s = r.json()
        assert set(s) == {"days", "app_versions", "os_versions", "displays", "features"}, s
        assert [d["date"] for d in s["days"]] == [today(i) for i in range(6, -1, -1)]
        by_date = {d["date"]: d["counts"] for d in s["days"]}
        assert by_date[today()] == {"feature_interaction": 4, "network_status": 1, "connectivity": 1,
                                    "error": 1, "crash": 1, "sign_in": 2}, by_date
        two = two_days[:10]
        assert by_date[two] == {"crash": 1}, by_date
        assert all(by_date[d] == {} for d in by_date if d not in (today(), two))
        assert s["app_versions"] == [{"value": "2.4.1", "events": 5, "users": 2},
                                     {"value": "2.5.0", "events": 4, "users": 1}], s
        assert s["os_versions"] == [{"value": "macOS 14.5", "events": 5, "users": 2},
                                    {"value": "Windows 11", "events": 4, "users": 1}], s
        assert s["displays"] == [{"value": "2560x1440", "events": 5, "users": 2},
                                 {"value": "1920x1080", "events": 4, "users": 1}], s
        assert s["features"] == [{"feature": "invite.copy", "count": 3},
                                 {"feature": "team.view", "count": 1}], s

        # ?days= bounds
        r = tc.get_summary(own, "days=1")
        assert r.status_code == 200 and [d["date"] for d in r.json()["days"]] == [today()], r.text
        r = tc.get_summary(own, "days=30")
        assert r.status_code == 200 and len(r.json()["days"]) == 30, r.text
        assert r.json()["days"][0]["date"] == today(29)
        for bad in ("days=0", "days=31", "days=-1", "days=abc", "days=", "days=7.5"):
            j = sembark.assert_json_error(tc.get_summary(own, bad), "validation_failed", 422)
            assert "days" in j.get("fields", {}), (bad, j)

        # roles: the member may not, an admin may
        sembark.assert_json_error(tc.get_summary(mem), "forbidden", 403)
        own.set_role(mem.user["id"], "admin")
        r = tc.get_summary(mem, "days=2")
        assert r.status_code == 200 and r.json()["features"][0] == {"feature": "invite.copy", "count": 3}
    finally:
        own.close()
        mem.close()


def test_summary_needs_session(shared_stack):
    r = shared_stack.get("/api/telemetry/summary")
    sembark.assert_json_error(r, "unauthenticated", 401)


def test_summary_team_isolation(shared_stack):
    a, b = Browser(shared_stack), Browser(shared_stack)
    try:
        a.signup("it team a")
        b.signup("it team b")
        r = tc.post_events(a, batch([event("feature_interaction", attrs={"feature": "only.in.a"})],
                                    client={"app_version": "a-1", "os_version": "a-os",
                                            "display": {"width": 11, "height": 11}}))
        assert r.status_code == 202, r.text
        sembark.wait_until(lambda: sum(sum(d["counts"].values())
                                       for d in tc.get_summary(b).json()["days"]) == 1,
                           5, what="team b's own sign_in in its summary")
        sb = tc.get_summary(b).json()
        text = json.dumps(sb)
        assert "only.in.a" not in text and "a-1" not in text and "a-os" not in text, sb
        assert sb["features"] == [] and sb["app_versions"] == [] and sb["displays"] == []
        assert sb["days"][-1]["counts"] == {"sign_in": 1}, sb
        sa = tc.get_summary(a).json()
        assert sa["features"] == [{"feature": "only.in.a", "count": 1}]
    finally:
        a.close()
        b.close()


def test_summary_lists_capped(shared_stack):
    own = Browser(shared_stack)
    try:
        own.signup("it cap team")
        evs = []
        for i in range(25):
            evs += [event("feature_interaction", attrs={"feature": "f%02d" % i}) for _ in range(i + 1)]
        r = tc.post_events(own, batch(evs[:300]))
        assert r.status_code == 202, r.text
        r = tc.post_events(own, batch(evs[300:]))
        assert r.status_code == 202, r.text
        clients = [{"app_version": "v%d" % i, "os_version": "os", "display": {"width": 100 + i, "height": 1}}
                   for i in range(22)]
        for c in clients:
            assert tc.post_events(own, batch([event("crash")], client=c)).status_code == 202
        s = tc.get_summary(own).json()
        assert len(s["features"]) == 20
        assert [f["feature"] for f in s["features"]] == ["f%02d" % i for i in range(24, 4, -1)]
        assert [f["count"] for f in s["features"]] == list(range(25, 5, -1))
        assert len(s["app_versions"]) == 20 and len(s["displays"]) == 20
        assert s["app_versions"][0] == {"value": "2.4.1", "events": len(evs), "users": 1}
        assert s["displays"][0] == {"value": "2560x1440", "events": len(evs), "users": 1}
        assert s["os_versions"] == [{"value": "macOS 14.5", "events": len(evs), "users": 1},
                                    {"value": "os", "events": 22, "users": 1}], s["os_versions"]
        # ties: by value
        assert [x["value"] for x in s["app_versions"][1:]] == sorted(c["app_version"] for c in clients)[:19]
    finally:
        own.close()


# ---- sign_in / sign_out from the server ----------------------------------------------------------------------

def test_sign_in_and_out_recorded(shared_stack, pg):
    b = Browser(shared_stack)
    try:
        b.signup("it signal team")

        def types():
            return [r["type"] for r in tc.stored(pg, b.user["id"])]

        sembark.wait_until(lambda: types() == ["sign_in"], 5, what="sign_in after sign-up")
        b.logout()
        sembark.wait_until(lambda: types() == ["sign_in", "sign_out"], 5, what="sign_out after logout")
        b.login()
        sembark.wait_until(lambda: types() == ["sign_in", "sign_out", "sign_in"], 5, what="sign_in after login")
        b.bearer()
        sembark.wait_until(lambda: types().count("sign_in") == 3, 5, what="sign_in after POST /api/tokens")
        for row in tc.stored(pg, b.user["id"]):
            assert row["team_id"] == b.team["id"]
            assert row["app_version"] is None and row["os_version"] is None
            assert row["display_width"] is None and row["display_height"] is None
            assert row["attrs"] == {}
            assert abs((row["received_at"] - row["occurred_at"]).total_seconds()) < 5
    finally:
        b.close()


# ---- privacy ------------------------------------------------------------------------------------------------------

def test_only_named_fields_stored(shared_stack, owner, pg):
    cols = pg.query("SELECT column_name FROM information_schema.columns "
                    "WHERE table_schema = 'public' AND table_name = 'telemetry_events' ORDER BY 1")
    assert sorted(c[0] for c in cols) == sorted([
        "id", "team_id", "user_id", "type", "occurred_at", "received_at", "app_version", "os_version",
        "display_width", "display_height", "attrs"])
    cols = pg.query("SELECT column_name FROM information_schema.columns "
                    "WHERE table_schema = 'public' AND table_name = 'telemetry_seen' ORDER BY 1")
    assert sorted(c[0] for c in cols) == ["event_id", "seen_at", "user_id"]

    marker = "it-ua-%d" % time.time()
    e = event("error", attrs={"code": "E1"})
    r = tc.post_events(owner.native, batch([e]), headers={
        "User-Agent": marker + "/1.0 (X11; Linux x86_64)",
        "X-Forwarded-For": "203.0.113.77", "X-Real-IP": "198.51.100.23",
        "Forwarded": "for=192.0.2.60;proto=http", "X-Device-Id": marker})
    assert r.status_code == 202, r.text
    rows = pg.query("SELECT row_to_json(t)::text FROM telemetry_events t WHERE user_id = %s",
                    (owner.user["id"],))
    text = "\n".join(x[0] for x in rows)
    assert e["id"] in text
    assert marker not in text
    for ip in ("203.0.113.77", "198.51.100.23", "192.0.2.60", "127.0.0.1"):
        assert ip not in text
    assert sembark.find_ip_addresses(text) == [], sembark.find_ip_addresses(text)


def test_special_characters_stored_verbatim(shared_stack, owner, pg):
    c = {"app_version": '2.4.1 "beta" \\ {x,y}', "os_version": "NULL",
         "display": {"width": 3, "height": 4}}
    attrs = {"feature": 'a"b\\c,{d}', "q": "NULL", "e": "é€😀", "nl": "line\nbreak\ttab",
             '"k\\': "v"}
    e = event("feature_interaction", attrs=attrs)
    ok(shared_stack, owner, batch([e], client=c), 1)
    row = [r for r in tc.stored(pg, owner.user["id"]) if r["id"] == e["id"]][0]
    assert row["app_version"] == c["app_version"]
    assert row["os_version"] == "NULL"
    assert (row["display_width"], row["display_height"]) == (3, 4)
    assert row["attrs"] == attrs
