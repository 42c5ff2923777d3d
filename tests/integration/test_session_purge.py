"""test_session_purge.py - authd's own retention rule (purge.c): expired
sessions are deleted from the database at start and every hour, not only
refused; live ones stay. Also the idle rule when session_idle_timeout is
set."""

import time

from client import Browser, sha256_hex


def session_rows(pg, token):
    return pg.query("SELECT id FROM sessions WHERE token_hash = sha256(convert_to(%s, 'UTF8'))",
                    (token,))


def test_expired_sessions_are_deleted_at_start(make_stack, pg):
    st = make_stack(env={"SEMBARK_AUTH_SESSION_LIFETIME": "2"})
    old = Browser(st)
    old.signup()
    old_token = old.bearer("purge old").token
    assert session_rows(pg, old_token), "a live session is stored"
    time.sleep(2.5)
    fresh = Browser(st)
    fresh.signup()
    fresh_token = fresh.bearer("purge fresh").token

    st.restart("authd")  # the purge runs at start, then hourly

    deadline = time.time() + 10
    while time.time() < deadline and session_rows(pg, old_token):
        time.sleep(0.2)
    assert not session_rows(pg, old_token), "the expired session is still stored"
    assert session_rows(pg, fresh_token), "a live session was purged"
    assert "purged expired sessions" in st.stderr("authd")


def test_idle_sessions_are_deleted(make_stack, pg):
    st = make_stack(env={"SEMBARK_AUTH_SESSION_IDLE_TIMEOUT": "1"})
    b = Browser(st)
    b.signup()
    token = b.bearer("purge idle").token
    time.sleep(2.5)
    st.restart("authd")
    deadline = time.time() + 10
    while time.time() < deadline and session_rows(pg, token):
        time.sleep(0.2)
    assert not session_rows(pg, token), "an idle-expired session is still stored"


def test_sessions_are_hashed_as_the_purge_expects(make_stack, pg):
    """The purge and the lookups use the same column: the SHA-256 of the token."""
    st = make_stack()
    b = Browser(st)
    b.signup()
    token = b.bearer("hash check").token
    rows = pg.query("SELECT encode(token_hash, 'hex') FROM sessions WHERE token_hash = "
                    "sha256(convert_to(%s, 'UTF8'))", (token,))
    assert rows and rows[0][0] == sha256_hex(token)
