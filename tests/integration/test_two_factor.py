"""test_two_factor.py - two-factor login (TOTP, RFC 6238) against the real
daemons: enrolment (password proven again, a secret with its otpauth URI and
QR code, pending until a code from the app confirms it, ten recovery codes
shown once and stored hashed), the browser login's second step (a ticket
that lives 5 minutes and takes at most 5 wrong codes, a code good once, a
recovery code good once, wrong codes throttled like logins), native
clients (totp_code with POST /api/tokens), turning it off, the secret
sealed at rest and bound to its account, and a server without a TOTP key.
Codes are computed here with Python's hmac, independently of totp.c."""

import base64
import hashlib
import re
import time
import urllib.parse

import pytest

import sembark
from client import HEX40, PASSWORD, RFC3339, Browser, json_error, post_token, set_cookies, totp

RECOVERY = re.compile(r"^[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}$")
QR_PATH = re.compile(r"^(M\d+ \d+h\d+v1h-\d+z)+$")


@pytest.fixture(scope="module")
def st(shared_stack):
    return shared_stack


def enrol(b):
    """Two-factor login on for Browser b: (secret, recovery codes, t0 of the code used)."""
    r = b.post("/api/me/totp", {"password": b.password})
    assert r.status_code == 200, (r.status_code, r.text[:300])
    secret = r.json()["secret"]
    t0 = time.time()
    r = b.post("/api/me/totp/confirm", {"code": totp(secret, t0)})
    assert r.status_code == 200, (r.status_code, r.text[:300])
    return secret, r.json()["recovery_codes"], t0


def enrolled(st):
    """A new team's owner with two-factor login on: (browser, secret, recovery codes, t0)."""
    owner = Browser(st.url())
    owner.signup()
    return (owner,) + enrol(owner)


def password_step(base, email, password=PASSWORD):
    """A new browser's POST /api/login: (browser, the 202 body)."""
    b = Browser(base)
    b.email, b.password = email, password
    r = b.login(expect=202)
    return b, r.json()


def clear_failures(st):
    st.pg.query("DELETE FROM login_failures")


def test_enrolment_needs_the_password_and_a_code(st):
    b = Browser(st.url())
    b.signup()
    r = b.get("/api/me/totp")
    assert r.status_code == 200, r.text
    assert r.json() == {"enabled": False, "enabled_at": None, "recovery_codes_left": 0,
                        "available": True, "required": False}

    json_error(b.post("/api/me/totp", {"password": b.password}, csrf=False), "csrf_mismatch", 419)
    j = json_error(b.post("/api/me/totp", {"password": "not the password at all"}),
                   "validation_failed", 422)
    assert j["fields"] == {"password": "is incorrect"}
    j = json_error(b.post("/api/me/totp", {}), "validation_failed", 422)
    assert j["fields"] == {"password": "is required"}
    j = json_error(b.post("/api/me/totp/confirm", {"code": "123456"}), "two_factor_not_started", 409)

    r = b.post("/api/me/totp", {"password": b.password})
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"secret", "otpauth_uri", "qr"}
    secret = body["secret"]
    assert re.fullmatch(r"[A-Z2-7]{32}", secret), secret
    uri = urllib.parse.urlparse(body["otpauth_uri"])
    assert (uri.scheme, uri.netloc) == ("otpauth", "totp")
    assert urllib.parse.unquote(uri.path) == "/sembark:" + b.email
    q = dict(urllib.parse.parse_qsl(uri.query))
    assert q == {"secret": secret, "issuer": "sembark", "algorithm": "SHA1", "digits": "6",
                 "period": "30"}
    assert body["qr"]["size"] >= 21 and (body["qr"]["size"] - 17) % 4 == 0, body["qr"]["size"]
    assert QR_PATH.match(body["qr"]["path"]), body["qr"]["path"][:80]

    # pending, sealed: the raw secret is nowhere in the row
    raw = base64.b32decode(secret)
    row = st.pg.query("SELECT totp_secret, totp_pending FROM users WHERE id = %s", (b.user["id"],))[0]
    assert row[0] is None and len(bytes(row[1])) == 60 and raw not in bytes(row[1])
    assert b.get("/api/me/totp").json()["enabled"] is False

    j = json_error(b.post("/api/me/totp/confirm", {"code": "12345"}), "validation_failed", 422)
    assert "code" in j["fields"]
    wrong = "%06d" % ((int(totp(secret, time.time())) + 1) % 1000000)
    j = json_error(b.post("/api/me/totp/confirm", {"code": wrong}), "validation_failed", 422)
    assert j["fields"] == {"code": "is incorrect"}

    r = b.post("/api/me/totp/confirm", {"code": totp(secret, time.time())})
    assert r.status_code == 200, r.text
    codes = r.json()["recovery_codes"]
    assert len(codes) == 10 and len(set(codes)) == 10 and all(RECOVERY.match(c) for c in codes)
    s = b.get("/api/me/totp").json()
    assert s["enabled"] is True and RFC3339.match(s["enabled_at"]) and s["recovery_codes_left"] == 10
    # only hashes are stored
    stored = {bytes(h[0]).hex() for h in st.pg.query(
        "SELECT code_hash FROM totp_recovery_codes WHERE user_id = %s", (b.user["id"],))}
    assert stored == {hashlib.sha256(c.replace("-", "").encode()).hexdigest() for c in codes}

    json_error(b.post("/api/me/totp/confirm", {"code": totp(secret, time.time())}),
               "two_factor_enabled", 409)
    json_error(b.post("/api/me/totp", {"password": b.password}), "two_factor_enabled", 409)
    events = st.pg.query("SELECT event FROM audit_outbox WHERE actor_id = %s UNION ALL "
                         "SELECT event FROM audit_events WHERE actor_id = %s",
                         (b.user["id"], b.user["id"]))
    assert ("two_factor_enabled",) in events, events


def test_browser_login_takes_a_second_step(st):
    owner, secret, codes, t0 = enrolled(st)

    b, body = password_step(st.url(), owner.email)
    assert set(body) == {"two_factor_required", "ticket", "expires_at"}
    assert body["two_factor_required"] is True and HEX40.match(body["ticket"])
    assert RFC3339.match(body["expires_at"])
    assert b.token is None, "no session before the second factor"
    json_error(b.me(), "unauthenticated", 401)
    assert st.pg.query("SELECT count(*) FROM login_challenges WHERE ticket_hash = decode(%s, 'hex')",
                       (hashlib.sha256(body["ticket"].encode()).hexdigest(),))[0][0] == 1

    # the request's shape
    j = json_error(b.post("/api/login/totp", {"ticket": body["ticket"]}), "validation_failed", 422)
    assert j["fields"] == {"code": "is required"}
    j = json_error(b.post("/api/login/totp", {"ticket": "x", "code": "123456"}),
                   "validation_failed", 422)
    assert "ticket" in j["fields"]
    json_error(b.post("/api/login/totp", {"ticket": body["ticket"], "code": totp(secret, t0)},
                      csrf=False), "csrf_mismatch", 419)
    # the code that confirmed the enrolment is spent; the next step's is good, once
    json_error(b.post("/api/login/totp", {"ticket": body["ticket"], "code": totp(secret, t0)}),
               "invalid_credentials", 401)
    code = totp(secret, t0 + 30)
    r = b.post("/api/login/totp", {"ticket": body["ticket"], "code": code})
    assert r.status_code == 200, r.text
    assert r.json()["user"]["email"] == owner.email and r.json()["team"]["id"] == owner.team["id"]
    assert HEX40.match(b.token) and b.me().status_code == 200
    assert "sembark_session" in set_cookies(r)
    # the ticket is gone, the code too
    json_error(b.post("/api/login/totp", {"ticket": body["ticket"], "code": code}),
               "invalid_credentials", 401)
    b2, body2 = password_step(st.url(), owner.email)
    json_error(b2.post("/api/login/totp", {"ticket": body2["ticket"], "code": code}),
               "invalid_credentials", 401)

    # a recovery code, once; typed in capitals without dashes
    typed = codes[0].replace("-", "").upper()
    r = b2.post("/api/login/totp", {"ticket": body2["ticket"], "recovery_code": typed})
    assert r.status_code == 200, r.text
    assert owner.get("/api/me/totp").json()["recovery_codes_left"] == 9
    clear_failures(st)
    b3, body3 = password_step(st.url(), owner.email)
    json_error(b3.post("/api/login/totp", {"ticket": body3["ticket"], "recovery_code": codes[0]}),
               "invalid_credentials", 401)
    clear_failures(st)


def test_tickets_expire_and_wear_out(st):
    owner, secret, codes, t0 = enrolled(st)

    b, body = password_step(st.url(), owner.email)
    th = hashlib.sha256(body["ticket"].encode()).hexdigest()
    st.pg.query("UPDATE login_challenges SET created_at = now() - interval '10 minutes', "
                "expires_at = now() - interval '6 minutes' WHERE ticket_hash = decode(%s, 'hex')", (th,))
    json_error(b.post("/api/login/totp", {"ticket": body["ticket"], "code": totp(secret, t0 + 30)}),
               "invalid_credentials", 401)

    b, body = password_step(st.url(), owner.email)
    th = hashlib.sha256(body["ticket"].encode()).hexdigest()
    st.pg.query("UPDATE login_challenges SET attempts = 5 WHERE ticket_hash = decode(%s, 'hex')", (th,))
    json_error(b.post("/api/login/totp", {"ticket": body["ticket"], "code": totp(secret, t0 + 30)}),
               "invalid_credentials", 401)
    clear_failures(st)

    # wrong codes count against the email like wrong passwords: 5 a minute
    b, body = password_step(st.url(), owner.email)  # the password step counts one
    wrong = "%06d" % ((int(totp(secret, time.time())) + 500000) % 1000000)
    for _ in range(4):
        json_error(b.post("/api/login/totp", {"ticket": body["ticket"], "code": wrong}),
                   "invalid_credentials", 401)
    r = b.post("/api/login/totp", {"ticket": body["ticket"], "code": totp(secret, t0 + 30)})
    json_error(r, "too_many_requests", 429)
    assert int(r.headers["Retry-After"]) >= 1
    assert st.pg.query("SELECT attempts FROM login_challenges WHERE ticket_hash = decode(%s, 'hex')",
                       (hashlib.sha256(body["ticket"].encode()).hexdigest(),))[0][0] == 4
    r = Browser(st.url()).post("/api/login", {"email": owner.email, "password": PASSWORD})
    json_error(r, "too_many_requests", 429)
    clear_failures(st)


def test_native_clients_send_the_code_with_the_password(st):
    owner, secret, codes, t0 = enrolled(st)

    json_error(post_token(st.url(), owner.email, PASSWORD), "two_factor_required", 401)
    json_error(post_token(st.url(), owner.email, "wrong password entirely"),
               "invalid_credentials", 401)
    with Browser(st.url()) as c:
        send = lambda extra: c._send("POST", "/api/tokens",  # noqa: E731
                                     dict({"email": owner.email, "password": PASSWORD,
                                           "device_name": "cli"}, **extra),
                                     None, None, "application/json", 30)
        json_error(send({"totp_code": "12"}), "validation_failed", 422)
        json_error(send({"totp_code": totp(secret, t0)}), "invalid_credentials", 401)  # spent
        r = send({"totp_code": totp(secret, t0 + 30)})
        assert r.status_code == 201, r.text
        assert HEX40.match(r.json()["token"])
        json_error(send({"totp_code": totp(secret, t0 + 30)}), "invalid_credentials", 401)
        r = send({"recovery_code": codes[3]})
        assert r.status_code == 201, r.text
        clear_failures(st)
        json_error(send({"recovery_code": codes[3]}), "invalid_credentials", 401)
    clear_failures(st)


def test_turning_it_off(st):
    owner, secret, codes, t0 = enrolled(st)
    j = json_error(owner.request("DELETE", "/api/me/totp", {"password": "not the password at all"}),
                   "validation_failed", 422)
    assert j["fields"] == {"password": "is incorrect"}
    b, body = password_step(st.url(), owner.email)  # a ticket outstanding
    r = owner.request("DELETE", "/api/me/totp", {"password": owner.password})
    assert r.status_code == 204, r.text
    assert owner.get("/api/me/totp").json() == {"enabled": False, "enabled_at": None,
                                                 "recovery_codes_left": 0, "available": True,
                                                 "required": False}
    assert st.pg.query("SELECT count(*) FROM totp_recovery_codes WHERE user_id = %s",
                       (owner.user["id"],))[0][0] == 0
    json_error(b.post("/api/login/totp", {"ticket": body["ticket"], "code": totp(secret, t0 + 30)}),
               "invalid_credentials", 401)
    clear_failures(st)
    Browser(st.url()).login(email=owner.email, password=PASSWORD, expect=200)
    assert owner.request("DELETE", "/api/me/totp", {"password": owner.password}).status_code == 204
    clear_failures(st)


def test_a_sealed_secret_opens_only_for_its_account(st):
    a, b = Browser(st.url()), Browser(st.url())
    a.signup()
    b.signup()
    secret, codes, t0 = enrol(a)
    st.pg.query("UPDATE users SET totp_secret = (SELECT totp_secret FROM users WHERE id = %s), "
                "totp_enabled_at = now() WHERE id = %s", (a.user["id"], b.user["id"]))
    c, body = password_step(st.url(), b.email)
    json_error(c.post("/api/login/totp", {"ticket": body["ticket"], "code": totp(secret, t0 + 30)}),
               "service_unavailable", 503)
    st.pg.query("UPDATE users SET totp_secret = NULL, totp_enabled_at = NULL WHERE id = %s",
                (b.user["id"],))
    clear_failures(st)


def test_nothing_secret_in_the_logs(st):
    owner, secret, codes, t0 = enrolled(st)
    b, body = password_step(st.url(), owner.email)
    assert b.post("/api/login/totp", {"ticket": body["ticket"],
                                      "code": totp(secret, t0 + 30)}).status_code == 200
    time.sleep(0.5)
    text = "\n".join(r[0] for r in st.pg.query("SELECT message || ' ' || fields::text FROM logs"))
    text += st.stderr_tails(1000)
    for needle in [secret, body["ticket"], codes[0], totp(secret, t0 + 30)[:6] + '"']:
        assert needle not in text, needle
    clear_failures(st)


def test_without_a_key_two_factor_is_off(make_stack):
    s = make_stack(config={"auth": {"totp_key_file": ""}})
    b = Browser(s.url())
    b.signup()
    assert b.get("/api/me/totp").json()["available"] is False
    json_error(b.post("/api/me/totp", {"password": b.password}), "service_unavailable", 503)


def test_expired_tickets_are_purged(st):
    owner, secret, codes, t0 = enrolled(st)
    b, body = password_step(st.url(), owner.email)
    th = hashlib.sha256(body["ticket"].encode()).hexdigest()
    st.pg.query("UPDATE login_challenges SET created_at = now() - interval '10 minutes', "
                "expires_at = now() - interval '6 minutes' WHERE ticket_hash = decode(%s, 'hex')", (th,))
    r = sembark.run_ctl(st.config, "retention")
    assert r.returncode == 0, (r.stdout, r.stderr)
    assert "login_challenges" in r.stdout, r.stdout
    assert st.pg.query("SELECT count(*) FROM login_challenges WHERE ticket_hash = decode(%s, 'hex')",
                       (th,))[0][0] == 0
    clear_failures(st)


def test_the_owner_may_require_it_of_the_team(st):
    owner = Browser(st.url())
    owner.signup()
    member = Browser(st.url())
    member.join(owner.invite_url)
    json_error(member.patch("/api/team", {"require_two_factor": True}), "forbidden", 403)
    json_error(owner.patch("/api/team", {"require_two_factor": "yes"}), "validation_failed", 422)
    json_error(owner.patch("/api/team", {}), "validation_failed", 422)
    # only an owner who has it on may require it
    json_error(owner.patch("/api/team", {"require_two_factor": True}), "two_factor_off", 409)
    secret, codes, t0 = enrol(owner)
    r = owner.patch("/api/team", {"require_two_factor": True})
    assert r.status_code == 200, r.text
    assert r.json() == {"team": owner.team, "require_two_factor": True}
    assert owner.get("/api/me/totp").json()["required"] is True
    json_error(owner.request("DELETE", "/api/me/totp", {"password": owner.password}),
               "two_factor_required_by_team", 409)

    # the member's session (cached in authd or not) can now only turn it on
    json_error(member.get("/api/team"), "two_factor_enrolment_required", 403)
    json_error(member.get("/api/audit"), "two_factor_enrolment_required", 403)
    ev = {"client": {"app_version": "1", "os_version": "x", "display": {"width": 1, "height": 1}},
          "events": [{"id": "0b5c6a8e-4a43-4c43-9a3e-6f1c1b9d2f10", "type": "crash",
                      "occurred_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}]}
    json_error(member.post("/api/telemetry/events", ev), "two_factor_enrolment_required", 403)
    assert member.me().status_code == 200
    status = member.get("/api/me/totp").json()
    assert status["required"] is True and status["enabled"] is False
    # a fresh login is the same: a session, restricted
    again = Browser(st.url())
    again.login(email=member.email, password=member.password, expect=200)
    json_error(again.get("/api/team"), "two_factor_enrolment_required", 403)
    secret_m, codes_m, t0_m = enrol(member)
    assert member.get("/api/team").status_code == 200
    assert again.get("/api/team").status_code == 200

    # optional again: a member may turn it off
    r = owner.patch("/api/team", {"require_two_factor": False})
    assert r.status_code == 200 and r.json()["require_two_factor"] is False
    assert member.request("DELETE", "/api/me/totp", {"password": member.password}).status_code == 204
    events = [e for (e,) in st.pg.query(
        "SELECT event FROM audit_outbox WHERE team_id = %s UNION ALL "
        "SELECT event FROM audit_events WHERE team_id = %s", (owner.team["id"], owner.team["id"]))]
    assert "two_factor_required" in events and "two_factor_optional" in events, events
    clear_failures(st)
