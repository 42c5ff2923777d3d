"""test_accounts_hashing.py - how passwords are kept (SECURITY.md "passwords
hashed with bcrypt", API.md "Accounts") against the real daemons: a bcrypt
"$2b$" hash at the configured [auth] bcrypt_cost; a hash made under
another cost or algorithm ([auth] password_hash = argon2id) replaced at
the next successful login, and the password still working after every
change of policy; an unknown email costing the same time as a wrong
password. authd is restarted with SEMBARK_AUTH_* overrides in between;
sessions survive those restarts."""

import statistics
import time

import sembark
from client import PASSWORD, Browser, json_error, new_email


def stored_hash(stack, email):
    rows = stack.pg.query("SELECT password_hash FROM users WHERE email = %s", (email,))
    assert rows, email
    return rows[0][0]


def restart_authd(stack, env=None):
    """authd again with env; back once ingress has reconnected (/healthz 200)."""
    stack.restart("authd", env=env)
    stack.wait_healthy()


def wait_hash(stack, email, prefix):
    return sembark.wait_until(lambda: stored_hash(stack, email).startswith(prefix) and
                              stored_hash(stack, email), 10, interval=0.05,
                              what="%s's hash to start with %s" % (email, prefix))


def test_bcrypt_at_configured_cost(stack):
    a = Browser(stack)
    a.signup()
    h = stored_hash(stack, a.email)
    assert h.startswith("$2b$04$"), h  # the harness's [auth] bcrypt_cost = 4
    assert len(h) == 60, h
    assert PASSWORD not in h
    m = Browser(stack)
    m.join(a.invite_url)
    assert stored_hash(stack, m.email).startswith("$2b$04$")
    # a password change hashes the same way, with a new salt
    r = a.post("/api/password", {"current_password": PASSWORD, "new_password": PASSWORD + " 2"})
    assert r.status_code == 204, r.text
    h2 = stored_hash(stack, a.email)
    assert h2.startswith("$2b$04$") and h2[7:29] != h[7:29], (h, h2)
    # a login under the same policy leaves the hash alone
    Browser(stack).login(a.email, PASSWORD + " 2")
    time.sleep(0.3)
    assert stored_hash(stack, a.email) == h2


def test_rehash_on_policy_change(stack):
    a = Browser(stack)
    a.signup()
    assert stored_hash(stack, a.email).startswith("$2b$04$")
    keep = a.token
    # the cost goes up: a new account gets it, an old one at its next login
    restart_authd(stack, {"SEMBARK_AUTH_BCRYPT_COST": "5"})
    assert a.me().status_code == 200, "the session did not survive an authd restart"
    b = Browser(stack)
    b.signup()
    assert stored_hash(stack, b.email).startswith("$2b$05$")
    assert stored_hash(stack, a.email).startswith("$2b$04$")
    json_error(Browser(stack).login(a.email, PASSWORD + "x", expect=None), "invalid_credentials", 401)
    assert stored_hash(stack, a.email).startswith("$2b$04$"), "a failed login re-hashed"
    Browser(stack).login(a.email, PASSWORD)
    wait_hash(stack, a.email, "$2b$05$")
    Browser(stack).login(a.email, PASSWORD)
    # argon2id: bcrypt hashes become argon2id at the next login
    restart_authd(stack, {"SEMBARK_AUTH_PASSWORD_HASH": "argon2id"})
    c = Browser(stack)
    c.signup()
    assert stored_hash(stack, c.email).startswith("$argon2id$")
    Browser(stack).login(a.email, PASSWORD)
    h = wait_hash(stack, a.email, "$argon2id$")
    assert PASSWORD not in h
    Browser(stack).login(a.email, PASSWORD)
    json_error(Browser(stack).login(a.email, PASSWORD[:-1], expect=None), "invalid_credentials", 401)
    Browser(stack).login(a.email, PASSWORD)  # clears that failure
    # and back to bcrypt at the harness's cost
    restart_authd(stack)
    Browser(stack).login(c.email, PASSWORD)
    wait_hash(stack, c.email, "$2b$04$")
    Browser(stack).login(a.email, PASSWORD)
    wait_hash(stack, a.email, "$2b$04$")
    Browser(stack).login(a.email, PASSWORD)
    Browser(stack).login(b.email, PASSWORD)
    wait_hash(stack, b.email, "$2b$04$")
    assert a.me().status_code == 200 and a.token == keep


def test_unknown_email_costs_a_hash(make_stack):
    """With a cost where a hash takes tens of milliseconds, an unknown email
    is answered no faster than a wrong password (and the same way)."""
    st = make_stack(env={"SEMBARK_AUTH_BCRYPT_COST": "10"})
    owners = []
    for _ in range(2):
        o = Browser(st)
        o.signup()
        owners.append(o)

    def timed(email, pw):
        b = Browser(st)
        b.csrf()
        t0 = time.monotonic()
        r = b.post("/api/login", {"email": email, "password": pw})
        dt = time.monotonic() - t0
        json_error(r, "invalid_credentials", 401)
        return dt, r.content

    wrong, unknown = [], []
    for i in range(4):  # under the per-email limit of 5
        for o in owners:
            wrong.append(timed(o.email, "not the password %d" % i))
        unknown.append(timed(new_email("it-ghost"), "not the password %d" % i))
        unknown.append(timed(new_email("it-ghost"), "not the password %d" % i))
    assert {c for _, c in wrong} == {c for _, c in unknown}
    w = statistics.median(d for d, _ in wrong)
    u = statistics.median(d for d, _ in unknown)
    assert w > 0.005, "a cost-10 bcrypt verify took only %.4f s?" % w
    assert 0.5 < u / w < 2.0, "unknown email %.4f s, wrong password %.4f s" % (u, w)


def test_hashing_does_not_block_other_requests(make_stack):
    """Slow hashes (cost 13) run on authd's pool: while logins wait for them,
    every other request is answered at once."""
    import threading
    st = make_stack(env={"SEMBARK_AUTH_BCRYPT_COST": "13"})
    a = Browser(st)
    a.signup()
    others = [Browser(st) for _ in range(2)]
    for o in others:
        o.signup(password=PASSWORD)  # separate emails: no throttle in the way
    done = []

    def login(email):
        r = Browser(st).login(email, PASSWORD, expect=None)
        done.append((time.monotonic(), r.status_code))

    threads = [threading.Thread(target=login, args=(e,)) for e in
               [a.email] * 3 + [o.email for o in others] * 2]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    time.sleep(0.05)
    lat = []
    while any(t.is_alive() for t in threads) and time.monotonic() - t0 < 60:
        s = time.monotonic()
        assert a.me().status_code == 200
        lat.append(time.monotonic() - s)
        time.sleep(0.02)
    for t in threads:
        t.join(60)
    assert all(code == 200 for _, code in done), done
    assert len(lat) >= 5, "the logins finished too fast to tell (%d samples)" % len(lat)
    logins_took = max(t for t, _ in done) - t0
    assert max(lat) < min(0.5, logins_took / 4), "GET /api/me waited %.3f s behind hashes (%s)" % (
        max(lat), sorted(lat)[-5:])
