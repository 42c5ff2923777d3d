"""test_login_overload.py - logins under overload (authd's hash pool): a
request carries its deadline (auth.call deadline_ms); what the pool cannot
hash before it is refused at once with 503 and Retry-After, nothing hangs,
and the refusals are logged (at most every 10 s). Sign-ups and password
changes go through the same door.

No timing is asserted: every answer must simply come (no request outlives
the ingress wait by much), and the flood must get both kinds of answer."""

import threading

from client import Browser, new_email, PASSWORD


def flood(stack, emails, per_email):
    out, threads = [], []
    lock = threading.Lock()

    def one(email):
        b = Browser(stack)
        try:
            r = b.post("/api/login", {"email": email, "password": PASSWORD}, timeout=30)
            res = (r.status_code, r.headers.get("Retry-After"), r.json().get("error"))
        except Exception as e:  # noqa: BLE001 - counted as a failure below
            res = ("exception", repr(e), None)
        with lock:
            out.append(res)

    for e in emails:
        for _ in range(per_email):  # at most 4 at once per email: the throttle's reserve
            threads.append(threading.Thread(target=one, args=(e,), daemon=True))
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not [t for t in threads if t.is_alive()], "a login never got an answer"
    return out


def test_login_flood_is_shed_at_once(make_stack):
    s = make_stack(config={"auth": {"bcrypt_cost": "12", "hash_threads": "1"},
                           "ingress": {"rpc_timeout_ms": "1500"}})
    emails = []
    for _ in range(6):
        b = Browser(s)
        b.signup(email=new_email("it-flood"))
        emails.append(b.email)
    # the pool knows how long a hash takes now; a flood of 24 logins, 1.5 s each to wait
    out = flood(s, emails, 4)
    codes = [o[0] for o in out]
    assert len(out) == 24 and "exception" not in codes, out
    assert set(codes) <= {200, 503}, out
    assert codes.count(200) >= 1, out
    refused = [o for o in out if o[0] == 503]
    assert refused, out
    for code, retry, error in refused:
        assert error == "service_unavailable", (code, retry, error)
        assert retry is not None and int(retry) >= 1, (code, retry, error)
    assert "password work refused: the hash pool is overloaded" in s.stderr("authd")
    # and afterwards, without the flood, logins work
    b = Browser(s)
    b.login(emails[0], PASSWORD)
