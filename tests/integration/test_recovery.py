"""test_recovery.py - a forgotten password (API.md: POST /api/password/forgot and
/api/password/reset) against the real daemons and PostgreSQL.

forgot answers 202 {} with the same body whether the email has an account or not, stores
nothing for an unknown one, and for a known one a link (only its SHA-256 in password_resets,
one hour) and a mail in mail_outbox carrying only the name and the token (sembark-maild makes
the link <public_origin>/login#reset=<token>); three links
an hour per account at most (the fourth request answers the same and stores nothing); CSRF and
field rules as every anonymous form. reset takes a live link once: a weak new password, one
equal to the email, a wrong, used or expired token are 422 on their field; a good one sets the
password, ends every session, voids the account's other links, records password_reset in the
audit trail and queues a password_changed notice. Erasing the account drops mails still
waiting for it. (sembark-maild's delivery of mail_outbox: test_mail.py.)"""

import re

import sembark
from client import Browser, PASSWORD, json_error, make_team

NEW_PASSWORD = "a brand new passphrase 2026"


def forgot(stack, email, **kw):
    return Browser(stack).post("/api/password/forgot", {"email": email}, **kw)


def mails(pg, to_addr, template="password_reset"):
    return pg.query("SELECT params FROM mail_outbox WHERE to_addr = %s AND template = %s "
                    "ORDER BY id", (to_addr, template))


def reset_token(stack, email):
    """The token of the newest reset mail queued for email (maild makes the link of it)."""
    rows = mails(stack.pg, email)
    assert rows, "no reset mail for %s" % email
    assert set(rows[-1][0]) == {"name", "token"}, rows[-1][0]  # no link, no address stored
    token = rows[-1][0]["token"]
    assert re.fullmatch(r"[0-9a-f]{40}", token), token
    return token


def reset(stack, token, password=NEW_PASSWORD, **kw):
    return Browser(stack).post("/api/password/reset", {"token": token, "new_password": password},
                               **kw)


def test_forgot_answers_the_same_for_any_email(shared_stack):
    owner, _, _ = make_team(shared_stack)
    known = forgot(shared_stack, owner.email.upper())  # emails are normalised
    unknown = forgot(shared_stack, "nobody-%s@example.com" % owner.user["id"][:8])
    for r in (known, unknown):
        assert r.status_code == 202 and r.json() == {}, r.text
        assert r.headers.get("Set-Cookie") is None or "sembark_session" not in r.headers["Set-Cookie"]
    assert set(known.headers) - {"Date"} == set(unknown.headers) - {"Date"}
    assert len(mails(shared_stack.pg, owner.email)) == 1
    assert shared_stack.pg.query("SELECT count(*) FROM mail_outbox WHERE to_addr LIKE 'nobody-%%'"
                                 )[0][0] == 0
    token = reset_token(shared_stack, owner.email)
    stored = shared_stack.pg.query(
        "SELECT encode(token_hash, 'hex'), expires_at - created_at FROM password_resets "
        "WHERE user_id = %s", (owner.user["id"],))
    assert len(stored) == 1 and stored[0][0] != token  # only the hash is stored
    assert str(stored[0][1]) == "1:00:00"


def test_forgot_fields_and_csrf(shared_stack):
    b = Browser(shared_stack)
    json_error(b.post("/api/password/forgot", {}), "validation_failed", 422)
    j = json_error(b.post("/api/password/forgot", {"email": "not an email"}), "validation_failed",
                   422)
    assert "email" in j["fields"]
    json_error(b.post("/api/password/forgot", {"email": "a@example.com"}, csrf=False),
               "csrf_mismatch", 419)


def test_three_links_an_hour(shared_stack):
    owner, _, _ = make_team(shared_stack)
    for _ in range(4):
        assert forgot(shared_stack, owner.email).status_code == 202
    assert len(mails(shared_stack.pg, owner.email)) == 3


def test_reset_sets_the_password_once_and_ends_sessions(shared_stack):
    pg = shared_stack.pg
    owner, _, member = make_team(shared_stack)
    other = Browser(shared_stack)
    other.login(member.email, PASSWORD)
    assert forgot(shared_stack, member.email).status_code == 202
    first = reset_token(shared_stack, member.email)
    assert forgot(shared_stack, member.email).status_code == 202
    token = reset_token(shared_stack, member.email)
    assert token != first

    j = json_error(reset(shared_stack, token, "short"), "validation_failed", 422)
    assert "new_password" in j["fields"]
    j = json_error(reset(shared_stack, token, member.email), "validation_failed", 422)
    assert "new_password" in j["fields"]  # 12+ characters, but the email itself is refused
    j = json_error(reset(shared_stack, "0" * 40), "validation_failed", 422)
    assert "expired" in j["fields"]["token"]
    json_error(reset(shared_stack, "zz"), "validation_failed", 422)
    json_error(reset(shared_stack, token, csrf=False), "csrf_mismatch", 419)

    r = reset(shared_stack, token)
    assert r.status_code == 204, r.text
    for b in (member, other):
        json_error(b.me(), "unauthenticated", 401)
    json_error(Browser(shared_stack).post("/api/login", {"email": member.email,
                                                        "password": PASSWORD}),
               "invalid_credentials", 401)
    Browser(shared_stack).login(member.email, NEW_PASSWORD)
    # good once; the other link went with it
    json_error(reset(shared_stack, token, NEW_PASSWORD + "!"), "validation_failed", 422)
    json_error(reset(shared_stack, first, NEW_PASSWORD + "!"), "validation_failed", 422)
    assert len(mails(pg, member.email, "password_changed")) == 1
    sembark.wait_until(lambda: pg.query(
        "SELECT count(*) FROM audit_events WHERE event = 'password_reset' AND subject_id = %s",
        (member.user["id"],))[0][0] == 1, timeout=20, what="password_reset in the trail")


def test_expired_link(shared_stack):
    owner, _, _ = make_team(shared_stack)
    assert forgot(shared_stack, owner.email).status_code == 202
    token = reset_token(shared_stack, owner.email)
    shared_stack.pg.query("UPDATE password_resets SET created_at = now() - interval '2 hours', "
                          "expires_at = now() - interval '1 hour' WHERE user_id = %s",
                          (owner.user["id"],))
    json_error(reset(shared_stack, token), "validation_failed", 422)
    assert owner.me().status_code == 200  # nothing changed


def test_erasure_drops_waiting_mails(shared_stack):
    owner, _, member = make_team(shared_stack)
    assert forgot(shared_stack, member.email).status_code == 202
    assert len(mails(shared_stack.pg, member.email)) == 1
    assert member.delete("/api/me", body={"password": PASSWORD}).status_code == 204
    assert mails(shared_stack.pg, member.email) == []
    assert shared_stack.pg.query("SELECT count(*) FROM password_resets WHERE user_id = %s",
                                 (member.user["id"],))[0][0] == 0
