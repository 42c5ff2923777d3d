"""test_mail.py - sembark-maild against a real SMTP server on loopback (Debian's
python3-aiosmtpd) that requires STARTTLS with a certificate made here, and the real daemons and
PostgreSQL.

A reset asked for through the API arrives as a mail (From [mail] from, To the account,
"Choose a new password" with the link, plain UTF-8 text, no IP address), its link resets the
password, and the notice of the change arrives too; the outbox is empty afterwards. Nothing is
lost: a mail queued while maild is down goes out when it starts; one whose relay is down waits
with its failure in words (no host, no address) and goes out once the relay is back; one left
leased by a maild that died goes out when the lease ends. A relay without STARTTLS gets nothing
while [mail] require_tls is on; a 5xx refusal gives the mail up at once."""

import os
import re
import time

import pytest

import sembark
from client import Browser, make_team

pytest.importorskip("aiosmtpd.controller", reason="python3-aiosmtpd missing")
from smtp_relay import Inbox, Relay, mail_stack, make_tls_files  # noqa: E402

NEW_PASSWORD = "mail arrived safely 2026"
IPV4 = re.compile(r"\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\b")


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory):
    return make_tls_files(tmp_path_factory.mktemp("smtp-tls"))


RESET = "Choose a new password for sembark"


def outbox(pg, email_addr, template="password_reset"):
    return pg.query("SELECT template, attempts, last_error FROM mail_outbox WHERE to_addr = %s "
                    "AND template = %s ORDER BY id", (email_addr, template))


def test_reset_mail_arrives_and_works(make_stack, tls_files):
    relay = Relay(tls_files).start()
    try:
        st = mail_stack(make_stack, tls_files, relay.port)
        st.add_maild()
        owner, _, member = make_team(st)
        assert Browser(st).post("/api/password/forgot", {"email": member.email}).status_code == 202
        mail_from, rcpts, msg, tls = relay.inbox.wait_for(RESET, to=member.email)[0]
        assert tls is not None  # STARTTLS was used
        assert mail_from == "accounts@sembark.test" and rcpts == [member.email]
        assert msg["To"].addresses[0].addr_spec == member.email
        assert "accounts@sembark.test" in msg["From"]
        assert msg["Content-Type"].startswith("text/plain") and msg["Auto-Submitted"]
        body = msg.get_content()
        assert "Hello It Member," in body
        link = re.search(re.escape(st.origin) + r"/login#reset=([0-9a-f]{40})", body)
        assert link, body
        assert not IPV4.search(msg.as_string().replace("127.0.0.1:%d" % st.port, "")), msg
        sembark.wait_until(lambda: outbox(st.pg, member.email) == [], timeout=10,
                           what="the outbox emptied")

        r = Browser(st).post("/api/password/reset", {"token": link.group(1),
                                                     "new_password": NEW_PASSWORD})
        assert r.status_code == 204, r.text
        relay.inbox.wait_for("Your sembark password was changed", to=member.email)
        Browser(st).login(member.email, NEW_PASSWORD)
    finally:
        relay.stop()


def test_nothing_lost_while_maild_or_relay_is_down(make_stack, tls_files):
    relay = Relay(tls_files)
    st = mail_stack(make_stack, tls_files, relay.port)
    owner, _, member = make_team(st)
    # maild down: the mail waits in the outbox
    assert Browser(st).post("/api/password/forgot", {"email": owner.email}).status_code == 202
    assert [t for t, _, _ in outbox(st.pg, owner.email)] == ["password_reset"]
    # maild up, relay down: tried, failure in words, kept
    st.add_maild()
    sembark.wait_until(lambda: outbox(st.pg, owner.email)[0][1] >= 1, timeout=20,
                       what="a failed try")
    _, attempts, err = outbox(st.pg, owner.email)[0]
    assert err and not IPV4.search(err) and "127.0.0.1" not in err, err
    assert not IPV4.search(open(st.daemons["maild"].stderr_path).read())
    # relay back: the next try delivers (skip the backoff)
    relay.start()
    try:
        st.pg.query("UPDATE mail_outbox SET next_attempt_at = now()")
        relay.inbox.wait_for(RESET, to=owner.email)
        # a mail leased by a maild that died mid-delivery goes when its lease ends
        st.stop("maild", sig=9)
        assert Browser(st).post("/api/password/forgot", {"email": member.email}).status_code == 202
        st.pg.query("UPDATE mail_outbox SET attempts = 1, next_attempt_at = now() + "
                    "interval '10 minutes' WHERE to_addr = %s", (member.email,))
        st.start("maild")
        time.sleep(1)
        assert relay.inbox.with_subject(RESET, to=member.email) == []  # leased: not yet
        st.pg.query("UPDATE mail_outbox SET next_attempt_at = now()")
        relay.inbox.wait_for(RESET, to=member.email)
        sembark.wait_until(lambda: outbox(st.pg, member.email) == [], timeout=10,
                           what="the outbox emptied")
    finally:
        relay.stop()


def test_no_starttls_no_mail(make_stack, tls_files):
    relay = Relay(tls_files, starttls=False).start()
    try:
        st = mail_stack(make_stack, tls_files, relay.port)
        st.add_maild()
        owner, _, _ = make_team(st)
        assert Browser(st).post("/api/password/forgot", {"email": owner.email}).status_code == 202
        sembark.wait_until(lambda: outbox(st.pg, owner.email)[0][1] >= 1, timeout=20,
                           what="a refused try")
        assert relay.inbox.mails == []
        err = outbox(st.pg, owner.email)[0][2]
        assert "SSL" in err or "TLS" in err, err
    finally:
        relay.stop()


def test_refused_mail_is_given_up(make_stack, tls_files):
    relay = Relay(tls_files, inbox=Inbox(refuse="550 5.1.1 no such user")).start()
    try:
        st = mail_stack(make_stack, tls_files, relay.port)
        st.add_maild()
        owner, _, _ = make_team(st)
        assert Browser(st).post("/api/password/forgot", {"email": owner.email}).status_code == 202
        sembark.wait_until(lambda: outbox(st.pg, owner.email) == [], timeout=20,
                           what="the reset mail given up")
        assert "mail given up" in open(st.daemons["maild"].stderr_path).read()
        assert relay.inbox.mails == []
    finally:
        relay.stop()


def test_maild_role_is_narrow(pg, sec, migrated):
    pw = sec.passwords["maild"]
    for sql in ("SELECT * FROM users", "SELECT * FROM password_resets",
                "INSERT INTO mail_outbox (user_id, to_addr, template) "
                "VALUES (gen_random_uuid(), 'a@b.c', 'password_reset')",
                "SELECT * FROM audit_events", "SELECT * FROM telemetry_events"):
        with pytest.raises(Exception, match="permission denied"):
            pg.query(sql, user=sembark.ROLES["maild"], password=pw)
    assert pg.query("SELECT count(*) >= 0 FROM mail_outbox", user=sembark.ROLES["maild"],
                    password=pw) == [(True,)]
    assert os.path.exists(sec.files["maild"])
