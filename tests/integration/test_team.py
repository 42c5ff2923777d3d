"""test_team.py - invite links, roles and team isolation (API.md
"Endpoints", "Roles", "Accounts: Invite codes") against the real daemons:
invite_url = public origin + "/join/" + a code of at least 128 random
bits; GET /api/invites/{code} -> {"team":{"name"}}, unknown 404; rotation
kills the old code at once (GET and accept) and the new one works; who
may call each endpoint (owner, admin, member: 403 forbidden below the
row's role); PATCH role by the owner only; an owner cannot be removed;
removal ends the member's sessions; another team's member or session id
is 404 and changes nothing. Unhappy paths first. One stack for the module."""

import re
import secrets

import pytest

from client import (PASSWORD, Browser, invite_code, json_error, make_team, new_email, post_token)

HEXCODE = re.compile(r"^[0-9a-f]{32,}$")
B64CODE = re.compile(r"^[A-Za-z0-9_-]{22,}$")


@pytest.fixture(scope="module")
def t1(shared_stack):
    return make_team(shared_stack, team_name="Team One")


@pytest.fixture(scope="module")
def t2(shared_stack):
    return make_team(shared_stack, team_name="Team Two")


def role_in_db(stack, user_id):
    rows = stack.pg.query("SELECT role FROM users WHERE id = %s", (user_id,))
    return rows[0][0] if rows else None


# ---- 403: roles --------------------------------------------------------------------------------

def test_member_forbidden_on_admin_routes(shared_stack, t1):
    owner, admin, member = t1
    other = Browser(shared_stack)
    other.join(owner.invite_url)
    before = owner.get("/api/team/invite").json()
    for r in (member.get("/api/team/invite"),
              member.post("/api/team/invite/rotate"),
              member.patch("/api/team/members/%s" % other.user["id"], {"role": "admin"}),
              member.patch("/api/team/members/%s" % member.user["id"], {"role": "admin"}),
              member.delete("/api/team/members/%s" % other.user["id"]),
              member.delete("/api/team/members/%s" % owner.user["id"]),
              member.bearer("m").post("/api/team/invite/rotate"),
              member.bearer("m").get("/api/team/invite")):
        json_error(r, "forbidden", 403)
    assert owner.get("/api/team/invite").json() == before
    assert role_in_db(shared_stack, other.user["id"]) == "member"
    assert role_in_db(shared_stack, member.user["id"]) == "member"
    assert other.me().status_code == 200


def test_admin_cannot_change_roles(shared_stack, t1):
    owner, admin, member = t1
    for target, role in ((member, "admin"), (admin, "member"), (owner, "member"), (admin, "admin")):
        json_error(admin.patch("/api/team/members/%s" % target.user["id"], {"role": role}),
                   "forbidden", 403)
    assert role_in_db(shared_stack, member.user["id"]) == "member"
    assert role_in_db(shared_stack, admin.user["id"]) == "admin"


def test_owner_role_cannot_change(shared_stack, t1):
    owner = t1[0]
    for role in ("admin", "member"):
        json_error(owner.patch("/api/team/members/%s" % owner.user["id"], {"role": role}), "forbidden", 403)
    assert role_in_db(shared_stack, owner.user["id"]) == "owner"


def test_owner_cannot_be_removed(shared_stack, t1):
    owner, admin, member = t1
    for who in (owner, admin):
        json_error(who.delete("/api/team/members/%s" % owner.user["id"]), "forbidden", 403)
    assert role_in_db(shared_stack, owner.user["id"]) == "owner"
    assert owner.me().status_code == 200


def test_admin_cannot_remove_admin(shared_stack):
    owner, admin, member = make_team(shared_stack)
    admin2 = Browser(shared_stack)
    admin2.join(owner.invite_url)
    assert owner.patch("/api/team/members/%s" % admin2.user["id"], {"role": "admin"}).status_code == 200
    json_error(admin.delete("/api/team/members/%s" % admin2.user["id"]), "forbidden", 403)
    assert admin2.me().status_code == 200
    # but the owner can, and an admin can remove a member
    assert admin.delete("/api/team/members/%s" % member.user["id"]).status_code == 204
    assert owner.delete("/api/team/members/%s" % admin2.user["id"]).status_code == 204
    json_error(admin2.me(), "unauthenticated", 401)


# ---- 404: another team ------------------------------------------------------------------------

def test_other_teams_members_404(shared_stack, t1, t2):
    owner1, admin1, _ = t1
    owner2, admin2, member2 = t2
    for who in (owner1, admin1):
        for target in (owner2, admin2, member2):
            json_error(who.delete("/api/team/members/%s" % target.user["id"]), "not_found", 404)
        json_error(owner1.patch("/api/team/members/%s" % member2.user["id"], {"role": "admin"}),
                   "not_found", 404)
        json_error(owner1.patch("/api/team/members/%s" % admin2.user["id"], {"role": "member"}),
                   "not_found", 404)
    # unknown and malformed ids alike
    for mid in ("00000000-0000-4000-8000-000000000000", "x", member2.user["id"].upper(), "1" * 64):
        json_error(owner1.delete("/api/team/members/%s" % mid), "not_found", 404)
        json_error(owner1.patch("/api/team/members/%s" % mid, {"role": "admin"}), "not_found", 404)
    # nothing changed over there
    assert role_in_db(shared_stack, member2.user["id"]) == "member"
    assert role_in_db(shared_stack, admin2.user["id"]) == "admin"
    assert member2.me().status_code == 200 and admin2.me().status_code == 200
    # and the other team never shows up
    ids = {m["id"] for m in owner1.get("/api/team").json()["members"]}
    assert not ids & {owner2.user["id"], admin2.user["id"], member2.user["id"]}


def test_other_teams_sessions_404(shared_stack, t1, t2):
    owner1 = t1[0]
    sids = [w.session_id() for w in t2]
    for sid in sids:
        json_error(owner1.delete("/api/sessions/%s" % sid), "not_found", 404)
    for w in t2:
        assert w.me().status_code == 200
    listed = {s["id"] for s in owner1.get("/api/sessions").json()["sessions"]}
    assert not listed & set(sids)


def test_other_teams_data_invisible(shared_stack, t1, t2):
    for w in t1:
        j = w.get("/api/team").json()
        assert j["team"]["id"] == t1[0].team["id"]
        assert t2[0].email not in w.get("/api/team").text
    assert t2[0].get("/api/team/invite").json()["invite_url"] != t1[0].get("/api/team/invite").json()["invite_url"]


# ---- invites --------------------------------------------------------------------------------------

def test_invite_url_and_code(shared_stack):
    codes = set()
    for _ in range(3):
        owner = Browser(shared_stack)
        j = owner.signup().json()
        url = j["invite_url"]
        prefix = shared_stack.origin + "/join/"
        assert url.startswith(prefix), url
        code = url[len(prefix):]
        assert HEXCODE.match(code) or B64CODE.match(code), "code %r has fewer than 128 bits" % code
        assert code not in codes
        codes.add(code)
        r = owner.get("/api/team/invite")
        assert r.status_code == 200, r.text
        assert set(r.json()) == {"invite_url", "created_at"}
        assert r.json()["invite_url"] == url
    # at least 128 bits: 32 hex digits, or 22 base64url characters; and random
    # enough that codes made one after another share no long prefix
    cs = sorted(codes)
    for a, b in zip(cs, cs[1:]):
        common = len([1 for x, y in zip(a, b) if x == y])
        assert common < len(a) // 2, (a, b)


def test_get_invite(shared_stack):
    owner = Browser(shared_stack)
    owner.signup(team_name="  Visible Name  ")
    anon = Browser(shared_stack)
    r = anon.get("/api/invites/%s" % invite_code(owner.invite_url))
    assert r.status_code == 200, r.text
    assert r.json() == {"team": {"name": "Visible Name"}}
    assert r.headers.get("Cache-Control") == "no-store"
    # no session needed, and no cookie set
    assert "sembark_session" not in r.headers.get("Set-Cookie", "")
    json_error(anon.get("/api/invites/%s" % secrets.token_hex(16)), "not_found", 404)
    json_error(anon.get("/api/invites/%s" % invite_code(owner.invite_url).upper()), "not_found", 404)


@pytest.mark.parametrize("who", ["owner", "admin"])
def test_rotate(shared_stack, who):
    owner, admin, member = make_team(shared_stack)
    caller = owner if who == "owner" else admin
    old = owner.invite_url
    old_inv = caller.get("/api/team/invite").json()
    r = caller.post("/api/team/invite/rotate")
    assert r.status_code == 200, r.text
    j = r.json()
    assert set(j) == {"invite_url", "created_at"}, j
    assert j["invite_url"] != old and j["invite_url"].startswith(shared_stack.origin + "/join/")
    assert j["created_at"] >= old_inv["created_at"]
    # the old code is dead at once, for GET and accept
    anon = Browser(shared_stack)
    json_error(anon.get("/api/invites/%s" % invite_code(old)), "not_found", 404)
    r = anon.post("/api/invites/%s/accept" % invite_code(old),
                  {"name": "Late", "email": new_email("it-late"), "password": PASSWORD})
    json_error(r, "not_found", 404)
    assert anon.token is None
    # the new one works, and is the one GET /api/team/invite shows everyone allowed
    assert anon.get("/api/invites/%s" % invite_code(j["invite_url"])).status_code == 200
    for w in (owner, admin):
        assert w.get("/api/team/invite").json()["invite_url"] == j["invite_url"]
    m = Browser(shared_stack)
    m.join(j["invite_url"])
    assert m.team["id"] == owner.team["id"] and m.user["role"] == "member"
    # members who joined before are still members
    assert member.me().status_code == 200


# ---- roles that are allowed -------------------------------------------------------------------------

def test_role_rows_allowed(shared_stack):
    owner, admin, member = make_team(shared_stack)
    # every session may read me, team, sessions
    for w in (owner, admin, member):
        for path in ("/api/me", "/api/team", "/api/sessions"):
            assert w.get(path).status_code == 200, (path, w.user)
    # owner and admin: the invite link
    for w in (owner, admin):
        assert w.get("/api/team/invite").status_code == 200
    # the owner changes roles, both ways; same role again is fine
    for role in ("admin", "member", "member"):
        r = owner.patch("/api/team/members/%s" % member.user["id"], {"role": role})
        assert r.status_code == 200, r.text
        j = r.json()
        assert set(j) == {"id", "name", "email", "role", "joined_at"}, j
        assert j["id"] == member.user["id"] and j["role"] == role and j["email"] == member.email
        assert member.me().json()["user"]["role"] == role  # the session sees the new role at once
    # a promoted member gets the admin rows, a demoted admin loses them
    assert owner.patch("/api/team/members/%s" % member.user["id"], {"role": "admin"}).status_code == 200
    assert member.get("/api/team/invite").status_code == 200
    assert owner.patch("/api/team/members/%s" % admin.user["id"], {"role": "member"}).status_code == 200
    json_error(admin.get("/api/team/invite"), "forbidden", 403)


def test_removal_ends_sessions(shared_stack):
    owner, admin, member = make_team(shared_stack)
    n = member.bearer("member cli")
    second = Browser(shared_stack)
    second.login(member.email, PASSWORD)
    r = admin.delete("/api/team/members/%s" % member.user["id"])
    assert r.status_code == 204, r.text
    assert r.content == b""
    for who in (member, second):
        json_error(who.me(), "unauthenticated", 401)
    json_error(n.get("/api/me"), "unauthenticated", 401)
    ids = {m["id"] for m in owner.get("/api/team").json()["members"]}
    assert member.user["id"] not in ids
    assert shared_stack.pg.query("SELECT count(*) FROM sessions WHERE user_id = %s",
                                 (member.user["id"],))[0][0] == 0
    json_error(owner.delete("/api/team/members/%s" % member.user["id"]), "not_found", 404)
    json_error(post_token(shared_stack, member.email, PASSWORD, "d"), "invalid_credentials", 401)
