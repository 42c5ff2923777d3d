"""test_verification.py - proving an email (API.md: POST /api/email/verify) against the real
daemons and PostgreSQL.

A new account, by sign-up or invite, gets a verify_email mail in mail_outbox, queued by the
statement that made the account, carrying <public_origin>/login#verify=<token> (stored as
SHA-256, 24 hours); GET /api/me/verification says email_verified false until the link is used, from any
browser (CSRF as every anonymous form), once; then true at once, also for a session already
cached. A signed-in person may ask for the link again (POST /api/me/verification: 202, three an
hour, 409 once verified). With [auth] require_verified_email, an unverified account's right
password is answered 403 email_not_verified and a new link is mailed; the verified one logs in."""

import re

import sembark
from client import Browser, PASSWORD, json_error, make_team


def verify_links(pg, email):
    """The tokens of the verification mails queued for email (maild makes the links)."""
    rows = pg.query("SELECT params->>'token' FROM mail_outbox WHERE to_addr = %s "
                    "AND template = 'verify_email' ORDER BY id", (email,))
    return [r[0] for r in rows]


def token_of(stack, token):
    assert re.fullmatch(r"[0-9a-f]{40}", token), token
    return token


def verify(stack, token, **kw):
    return Browser(stack).post("/api/email/verify", {"token": token}, **kw)


def test_new_accounts_verify_their_email(shared_stack):
    pg = shared_stack.pg
    owner, _, member = make_team(shared_stack)
    for b in (owner, member):
        links = verify_links(pg, b.email)
        assert len(links) == 1, links
        assert b.get("/api/me/verification").json()["email_verified"] is False
    token = token_of(shared_stack, verify_links(pg, member.email)[0])
    stored = pg.query("SELECT encode(token_hash, 'hex'), expires_at - created_at "
                      "FROM email_verifications WHERE user_id = %s", (member.user["id"],))
    assert len(stored) == 1 and stored[0][0] != token and str(stored[0][1]) == "1 day, 0:00:00"

    json_error(verify(shared_stack, "0" * 40), "validation_failed", 422)
    json_error(verify(shared_stack, "nope"), "validation_failed", 422)
    json_error(verify(shared_stack, token, csrf=False), "csrf_mismatch", 419)
    status = member.get("/api/me/verification").json()  # the session is cached now
    assert status == {"email": member.email, "email_verified": False}
    r = verify(shared_stack, token)
    assert r.status_code == 204, r.text
    sembark.wait_until(lambda: member.get("/api/me/verification").json()["email_verified"],
                       timeout=5, what="the cached session to say verified")
    j = json_error(verify(shared_stack, token), "validation_failed", 422)  # good once
    assert "expired" in j["fields"]["token"]
    assert owner.get("/api/me/verification").json()["email_verified"] is False
    sembark.wait_until(lambda: pg.query(
        "SELECT count(*) FROM audit_events WHERE event = 'email_verified' AND subject_id = %s",
        (member.user["id"],))[0][0] == 1, timeout=20, what="email_verified in the trail")
    json_error(member.post("/api/me/verification"), "email_verified", 409)


def test_ask_for_the_link_again(shared_stack):
    owner, _, _ = make_team(shared_stack)
    for _ in range(3):
        r = owner.post("/api/me/verification")
        assert r.status_code == 202 and r.json() == {}, r.text
    # the sign-up's link and two more within the hour, then no more
    assert len(verify_links(shared_stack.pg, owner.email)) == 3
    json_error(Browser(shared_stack).post("/api/me/verification"), "unauthenticated", 401)
    # the newest link works
    assert verify(shared_stack, token_of(shared_stack, verify_links(shared_stack.pg,
                                                                    owner.email)[-1])
                  ).status_code == 204


def test_expired_link(shared_stack):
    owner, _, _ = make_team(shared_stack)
    token = token_of(shared_stack, verify_links(shared_stack.pg, owner.email)[0])
    shared_stack.pg.query("UPDATE email_verifications SET created_at = now() - interval '2 days', "
                          "expires_at = now() - interval '1 day' WHERE user_id = %s",
                          (owner.user["id"],))
    json_error(verify(shared_stack, token), "validation_failed", 422)


def test_required_verification_blocks_login(make_stack):
    st = make_stack(config={"auth": {"require_verified_email": "true"}})
    b = Browser(st)
    b.signup()  # sign-up itself signs in: the rule is about logging in again
    b.logout()
    j = json_error(Browser(st).post("/api/login", {"email": b.email, "password": PASSWORD}),
                   "email_not_verified", 403)
    assert "link" in j["message"]
    links = verify_links(st.pg, b.email)
    assert len(links) == 2  # the sign-up's and the new one
    json_error(Browser(st).post("/api/login", {"email": b.email, "password": "wrong" + PASSWORD}),
               "invalid_credentials", 401)  # a wrong password learns nothing more
    assert verify(st, token_of(st, links[-1])).status_code == 204
    Browser(st).login(b.email, PASSWORD)
