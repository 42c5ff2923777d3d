"""smtp_relay.py - a real SMTP server on loopback for the mail tests (Debian's python3-aiosmtpd):
STARTTLS required with a certificate made here (openssl), every accepted mail kept parsed; and
the [mail] settings that point a stack's sembark-maild at it."""

import email
import email.policy
import ssl
import subprocess

import sembark
from aiosmtpd.controller import Controller


class Inbox:
    """What the relay accepted: (mail from, rcpt tos, parsed message, TLS session or None)."""

    def __init__(self, refuse=None):
        self.mails = []
        self.refuse = refuse  # an SMTP reply for RCPT TO, e.g. "550 no such user"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.refuse:
            return self.refuse
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        msg = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        self.mails.append((envelope.mail_from, list(envelope.rcpt_tos), msg, session.ssl))
        return "250 Message accepted"

    def with_subject(self, subject, to=None):
        return [m for m in self.mails
                if m[2]["Subject"] == subject and (to is None or m[1] == [to])]

    def wait_for(self, subject, n=1, timeout=20, to=None):
        """The first n mails with this subject (to this recipient), once they arrived."""
        sembark.wait_until(lambda: len(self.with_subject(subject, to)) >= n, timeout=timeout,
                           what="%d mail(s) %r at the relay" % (n, subject))
        return self.with_subject(subject, to)


def forget_queued_mail(pg):
    """Every stack of the suite shares one database, so one outbox: a mail test starts with it
    empty, or its maild would send what earlier tests queued to its relay."""
    pg.query("DELETE FROM mail_outbox")

    def wait(self, n=1, timeout=20):
        sembark.wait_until(lambda: len(self.mails) >= n, timeout=timeout,
                           what="%d mail(s) at the relay" % n)
        return self.mails


def make_tls_files(directory):
    """(key, cert) of a self-signed certificate for localhost and 127.0.0.1."""
    key, cert = str(directory / "key.pem"), str(directory / "cert.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                    "-out", cert, "-days", "1", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
                   check=True, capture_output=True, timeout=60)
    return key, cert


class Relay:
    def __init__(self, tls_files, inbox=None, starttls=True):
        self.inbox = inbox or Inbox()
        self.port = sembark.free_port()
        ctx = None
        if starttls:
            ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            ctx.load_cert_chain(tls_files[1], tls_files[0])
        self.ctl = Controller(self.inbox, hostname="127.0.0.1", port=self.port,
                              tls_context=ctx, require_starttls=starttls)

    def start(self):
        self.ctl.start()
        return self

    def stop(self):
        self.ctl.stop()


def mail_config(port, tls_files, **mail):
    """A stack's config extra: [mail] pointing at the relay on port."""
    conf = {"relay": "smtp://127.0.0.1:%d" % port, "from": "accounts@sembark.test",
            "ca_file": tls_files[1]}
    conf.update({k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in mail.items()})
    return {"mail": conf}


def mail_stack(make_stack, tls_files, port, **mail):
    """A stack whose [mail] points at the relay on port, started with an empty outbox (its
    sembark-maild is the caller's to add)."""
    st = make_stack(config=mail_config(port, tls_files, **mail))
    forget_queued_mail(st.pg)
    return st
