"""test_web_two_factor.py - two-factor login in the browser, end to end, in
real Chromium against the real daemons: Katherine turns it on from her Account
page (her password, then the QR code, which zbarimg must read back as the
otpauth:// URI of the secret the page shows, then the first code from her
"app", computed here with Python's hmac), keeps her recovery codes, logs
out, logs in with her password and then a code (a wrong one first), logs
in once more with a recovery code, and turns it off. Screenshots:
two-factor-setup, two-factor-recovery-codes, two-factor-login.
"""

import os
import shutil
import subprocess
import time
import urllib.parse

from selenium.webdriver.common.by import By

from client import totp
from test_web_story import PASSWORD, join, signup


def read_qr(b):
    """What a phone's camera reads from the page's QR code (zbarimg on a PNG of it)."""
    el = b.d.find_element(By.CSS_SELECTOR, "svg.qr")
    path = os.path.join(b.profile, "qr.png")
    el.screenshot(path)
    zbar = shutil.which("zbarimg")
    assert zbar, "zbarimg (Debian's zbar-tools) is missing: sh scripts/deps.sh test"
    r = subprocess.run([zbar, "--raw", "-q", path], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, (r.returncode, r.stderr)
    return r.stdout.strip()


def log_in(b, email):
    b.go("/login")
    b.wait(lambda: any(lab.text.strip() == "Password" and lab.is_displayed()
                       for lab in b.d.find_elements(By.TAG_NAME, "label")), "the login form")
    b.fill({"Email": email, "Password": PASSWORD})
    b.click("Log in")


def test_two_factor_story(stack, browsers):
    kat = browsers(stack.url("/"))
    signup(kat, "Langley Flight", "Katherine Owner", "katherine@langley.test")
    kat.link("Account").click()
    kat.wait_text("Two-factor login")
    kat.wait_text("Off. With it on")

    # on: the password, the QR code and the first code
    kat.fill({"Your password": "not my password at all"})
    kat.click("Set up two-factor login")
    kat.wait(lambda: kat.field_error("Your password"), "the wrong password's message")
    kat.fill({"Your password": PASSWORD})
    kat.click("Set up two-factor login")
    kat.wait_text("Scan this code with your authenticator app")
    secret = kat.d.find_element(By.CSS_SELECTOR, "code.secret").text.replace(" ", "")
    kat.screenshot("two-factor-setup")
    uri = urllib.parse.urlparse(read_qr(kat))
    assert (uri.scheme, uri.netloc, urllib.parse.unquote(uri.path)) == \
        ("otpauth", "totp", "/sembark:katherine@langley.test")
    assert dict(urllib.parse.parse_qsl(uri.query))["secret"] == secret
    t0 = time.time()
    kat.fill({"Code from your app": totp(secret, t0)})
    kat.click("Turn on")
    kat.wait_text("Keep these recovery codes somewhere safe")
    codes = [li.text for li in kat.d.find_elements(By.CSS_SELECTOR, ".recovery-codes li")]
    assert len(codes) == 10, codes
    kat.screenshot("two-factor-recovery-codes")
    kat.click("I have saved them")
    kat.wait_text("10 of 10 recovery codes left")
    kat.click("Log out")
    kat.wait_path("/login")

    # the password, then the code (a wrong one first)
    log_in(kat, "katherine@langley.test")
    kat.wait_text("Enter the code from your authenticator app.")
    assert kat.path() == "/login" and kat.cookie("sembark_session") is None
    kat.screenshot("two-factor-login")
    wrong = "%06d" % ((int(totp(secret, time.time())) + 500000) % 1000000)
    kat.fill({"Code from your app": wrong})
    kat.click("Log in")
    kat.wait(lambda: "That code is not right" in kat.alert_text(), "the wrong code's message")
    kat.fill({"Code from your app": totp(secret, t0 + 30)})  # the next step's: the first is spent
    kat.click("Log in")
    kat.wait_path("/app")
    kat.wait_text("Members (1)")
    kat.click("Log out")
    kat.wait_path("/login")

    # a recovery code instead
    log_in(kat, "katherine@langley.test")
    kat.wait_text("Enter the code from your authenticator app.")
    kat.click("Use a recovery code instead")
    kat.fill({"Recovery code": codes[0]})
    kat.click("Log in")
    kat.wait_path("/app")

    # off again, with the password
    kat.link("Account").click()
    kat.wait_text("9 of 10 recovery codes left")
    kat.fill({"Your password": PASSWORD})
    kat.click("Turn off two-factor login")
    kat.wait_text("Two-factor login is off.")
    kat.click("Log out")
    kat.wait_path("/login")
    log_in(kat, "katherine@langley.test")
    kat.wait_path("/app")


def turn_on(b, password=PASSWORD):
    """From the Account page: two-factor login on; the secret."""
    b.fill({"Your password": password})
    b.click("Set up two-factor login")
    b.wait_text("Scan this code with your authenticator app")
    secret = b.d.find_element(By.CSS_SELECTOR, "code.secret").text.replace(" ", "")
    b.fill({"Code from your app": totp(secret, time.time())})
    b.click("Turn on")
    b.wait_text("Keep these recovery codes somewhere safe")
    b.click("I have saved them")
    return secret


def test_the_team_requires_it(stack, browsers):
    kat = browsers(stack.url("/"))
    signup(kat, "Hopper Labs", "Grace Owner", "grace@hopper.test")
    link = kat.wait(lambda: kat.field("Invite link").get_attribute("value"), "the invite link")
    kat.wait_text("Security")
    kat.click("Require two-factor login")
    kat.wait(lambda: "Turn on two-factor login for yourself" in kat.alert_text(), "the owner's 409")
    kat.link("Account").click()
    kat.wait_text("Off. With it on")
    turn_on(kat)
    kat.link("Team").click()
    kat.click("Require two-factor login")
    kat.wait_text("Everyone must now turn on two-factor login before anything else.")
    kat.screenshot("two-factor-team-policy")

    # Bob joins: his dashboard sends him to his Account until he turns it on
    bob = browsers(stack.url("/"))
    join(bob, stack, link, "Alan Member", "alan@hopper.test")
    bob.wait_path("/app/account")
    bob.wait_text("Your team requires two-factor login. Turn it on below to continue.")
    bob.link("Team").click()
    bob.wait_path("/app/account")
    turn_on(bob)
    bob.wait_text("as your team requires")
    bob.link("Team").click()
    bob.wait_path("/app")
    bob.wait_text("Members (2)")
