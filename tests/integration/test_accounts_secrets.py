"""test_accounts_secrets.py - what the account flows leave behind (API.md
"Sessions": only a hash of a token is kept; "Audit trail": no IP
address, token or password in an audit event or any log line): after a
run of every account action, no daemon's stderr, no row of `logs` and no
row of `audit_events` holds a password, a session token, the hash of one,
an invite code or a client address."""

import base64
import datetime
import hashlib

import sembark
from client import PASSWORD, Browser, invite_code, json_error, make_team


def test_no_secrets_left_behind(stack, pg):
    since = datetime.datetime.now(datetime.timezone.utc)
    new_pw = "the second passphrase 77"
    owner, admin, member = make_team(stack)
    n = owner.bearer("secret cli")
    codes = [invite_code(owner.invite_url)]
    r = owner.post("/api/team/invite/rotate")
    codes.append(invite_code(r.json()["invite_url"]))
    json_error(Browser(stack).login(owner.email, "a wrong password here", expect=None),
               "invalid_credentials", 401)
    other = Browser(stack)
    other.login(admin.email, PASSWORD)
    tokens = [owner.token, admin.token, member.token, n.token, other.token]
    assert n.post("/api/logout").status_code == 204
    assert owner.post("/api/password", {"current_password": PASSWORD, "new_password": new_pw}).status_code == 204
    assert Browser(stack).get("/api/invites/%s" % codes[1]).status_code == 200
    json_error(Browser(stack).get("/api/invites/%s" % codes[0]), "not_found", 404)
    tokens.append(owner.token)
    assert all(tokens)
    assert admin.delete("/api/team/members/%s" % member.user["id"]).status_code == 204
    assert other.logout().status_code == 204
    assert owner.logout().status_code == 204

    secrets = [PASSWORD, new_pw, "a wrong password here"] + codes
    for t in tokens:
        h = hashlib.sha256(t.encode())
        secrets += [t, h.hexdigest(), base64.b64encode(h.digest()).decode().rstrip("=")]
    # logd has stored what the daemons sent: the ingress record of the last request is there
    sembark.wait_until(lambda: pg.query("SELECT count(*) FROM logs WHERE at >= %s AND service = "
                                        "'ingressd' AND fields->>'route' = '/api/logout'",
                                        (since,))[0][0] >= 2, 10, interval=0.1, what="logout records")
    texts = [("stderr of " + d, stack.stderr(d)) for d in sembark.DAEMONS]
    texts += [("logs", t) for (t,) in pg.query("SELECT l::text FROM logs l WHERE at >= %s", (since,))]
    if pg.query("SELECT to_regclass('public.audit_events') IS NOT NULL")[0][0]:
        texts += [("audit_events", t) for (t,) in pg.query(
            "SELECT a::text FROM audit_events a WHERE at >= %s", (since,))]
    assert len(texts) > 10
    for where, text in texts:
        low = text.lower()
        for s in secrets:
            assert s.lower() not in low, "%r found in %s: %r" % (s[:12], where, text[:300])
        assert "127.0.0.1" not in text or where.startswith("stderr"), (where, text[:300])
        assert "$2b$" not in text and "$argon2" not in text, (where, text[:300])
