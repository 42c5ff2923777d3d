"""test_web_recovery.py - a forgotten password in the browser, end to end, in real Chromium
against the real daemons (sembark-maild included), PostgreSQL and a real SMTP server with
STARTTLS (aiosmtpd, tests/integration/smtp_relay.py): Hedy logs out, asks for a link from the
login page ("Forgot your password?"), and opens the link of the mail that arrived at the relay;
the token leaves the address bar at once; a mismatched repeat is refused on its field; the new password is set, the login page
says so, the old password no longer works and the new one does; the same link a second time
is refused in words. Screenshots: recovery-forgot, recovery-reset."""

import re

import pytest

from smtp_relay import Relay, mail_stack, make_tls_files
from test_web_story import PASSWORD, signup
from test_web_two_factor import log_in

NEW = "tuned frequency hopping 1942"


@pytest.fixture
def mailing(make_stack, tmp_path):
    """(stack, relay): a stack with sembark-maild and a real SMTP relay (STARTTLS) on loopback."""
    tls = make_tls_files(tmp_path)
    relay = Relay(tls).start()
    try:
        stack = mail_stack(make_stack, tls, relay.port)
        stack.add_maild()
        yield stack, relay
    finally:
        relay.stop()


def test_forgotten_password(mailing, browsers):
    stack, relay = mailing
    hedy = browsers(stack.url("/"))
    signup(hedy, "Frequency Hopping", "Hedy Owner", "hedy@lamarr.test")
    hedy.click("Log out")
    hedy.wait_path("/login")

    hedy.link("Forgot your password?").click()
    hedy.wait_text("Enter the email you log in with")
    hedy.fill({"Email": "hedy@lamarr.test"})
    hedy.click("Send me a link")
    hedy.wait_text("If an account uses this email, a link to choose a new password is on its way.")
    hedy.screenshot("recovery-forgot")
    mail = relay.inbox.wait_for("Choose a new password for sembark", to="hedy@lamarr.test")[0][2]
    link = re.search(re.escape(stack.url("/login#reset=")) + r"[0-9a-f]{40}",
                     mail.get_content()).group(0)

    hedy.go(link[len(stack.url("")):])
    hedy.wait_text("Choose a new password")
    assert "reset=" not in hedy.d.current_url  # out of the address bar and history at once
    hedy.fill({"New password": NEW, "Repeat the new password": NEW + "x"})
    hedy.click("Set new password")
    hedy.wait(lambda: hedy.field_error("Repeat the new password"), "the mismatch on its field")
    hedy.fill({"New password": NEW, "Repeat the new password": NEW})
    hedy.screenshot("recovery-reset")
    hedy.click("Set new password")
    hedy.wait_text("Your password was changed and every session of yours ended.")
    assert hedy.path() == "/login"
    relay.inbox.wait_for("Your sembark password was changed", to="hedy@lamarr.test")

    # the old password is gone, the new one works
    log_in(hedy, "hedy@lamarr.test")  # with PASSWORD, the old one
    hedy.wait(lambda: "do not match an account" in hedy.alert_text(), "the old password refused")
    hedy.expect_fault("401")
    hedy.fill({"Email": "hedy@lamarr.test", "Password": NEW})
    hedy.click("Log in")
    hedy.wait_path("/app")
    hedy.click("Log out")
    hedy.wait_path("/login")

    # the link was good once
    hedy.go(link[len(stack.url("")):])
    hedy.wait_text("Choose a new password")
    hedy.fill({"New password": NEW + " again", "Repeat the new password": NEW + " again"})
    hedy.click("Set new password")
    hedy.wait(lambda: "This link does not work any more" in hedy.alert_text(), "the used link")
    hedy.expect_fault("422")
    assert PASSWORD != NEW
    hedy.assert_clean()


def test_verify_email_from_the_mail(mailing, browsers):
    stack, relay = mailing
    grace = browsers(stack.url("/"))
    signup(grace, "Compilers Inc", "Grace Verify", "grace@compilers.test")
    grace.wait_text("Verify your email: open the link we mailed to grace@compilers.test.")
    grace.click("Send the link again")
    grace.wait_text("A new link is on its way to grace@compilers.test.")
    grace.screenshot("verify-banner")
    mails = relay.inbox.wait_for("Confirm your email for sembark", 2,
                                 to="grace@compilers.test")
    link = re.search(re.escape(stack.url("/login#verify=")) + r"[0-9a-f]{40}",
                     mails[-1][2].get_content()).group(0)
    grace.go(link[len(stack.url("")):])
    grace.wait_path("/app")
    grace.wait_text("Your email is verified. Thank you.")
    assert "verify=" not in grace.d.current_url
    assert "Verify your email" not in grace.text()
    # the first link was voided by the use of the second: in words, on the login page
    first = re.search(re.escape(stack.url("/login#verify=")) + r"[0-9a-f]{40}",
                      mails[0][2].get_content()).group(0)
    other = browsers(stack.url("/"))
    other.go(first[len(stack.url("")):])
    other.wait_text("This verification link does not work any more")
    other.expect_fault("422")
    grace.assert_clean()
