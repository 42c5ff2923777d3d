"""test_web_two_factor.py - two-factor login in the browser, end to end, in
real Chromium against the real daemons: Ada turns it on from her Account
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
from test_web_story import PASSWORD, signup


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
    ada = browsers(stack.url("/"))
    signup(ada, "Acme Rockets", "Ada Owner", "ada@acme.test")
    ada.link("Account").click()
    ada.wait_text("Two-factor login")
    ada.wait_text("Off. With it on")

    # on: the password, the QR code and the first code
    ada.fill({"Your password": "not my password at all"})
    ada.click("Set up two-factor login")
    ada.wait(lambda: ada.field_error("Your password"), "the wrong password's message")
    ada.fill({"Your password": PASSWORD})
    ada.click("Set up two-factor login")
    ada.wait_text("Scan this code with your authenticator app")
    secret = ada.d.find_element(By.CSS_SELECTOR, "code.secret").text.replace(" ", "")
    ada.screenshot("two-factor-setup")
    uri = urllib.parse.urlparse(read_qr(ada))
    assert (uri.scheme, uri.netloc, urllib.parse.unquote(uri.path)) == \
        ("otpauth", "totp", "/sembark:ada@acme.test")
    assert dict(urllib.parse.parse_qsl(uri.query))["secret"] == secret
    t0 = time.time()
    ada.fill({"Code from your app": totp(secret, t0)})
    ada.click("Turn on")
    ada.wait_text("Keep these recovery codes somewhere safe")
    codes = [li.text for li in ada.d.find_elements(By.CSS_SELECTOR, ".recovery-codes li")]
    assert len(codes) == 10, codes
    ada.screenshot("two-factor-recovery-codes")
    ada.click("I have saved them")
    ada.wait_text("10 of 10 recovery codes left")
    ada.click("Log out")
    ada.wait_path("/login")

    # the password, then the code (a wrong one first)
    log_in(ada, "ada@acme.test")
    ada.wait_text("Enter the code from your authenticator app.")
    assert ada.path() == "/login" and ada.cookie("sembark_session") is None
    ada.screenshot("two-factor-login")
    wrong = "%06d" % ((int(totp(secret, time.time())) + 500000) % 1000000)
    ada.fill({"Code from your app": wrong})
    ada.click("Log in")
    ada.wait(lambda: "That code is not right" in ada.alert_text(), "the wrong code's message")
    ada.fill({"Code from your app": totp(secret, t0 + 30)})  # the next step's: the first is spent
    ada.click("Log in")
    ada.wait_path("/app")
    ada.wait_text("Members (1)")
    ada.click("Log out")
    ada.wait_path("/login")

    # a recovery code instead
    log_in(ada, "ada@acme.test")
    ada.click("Use a recovery code instead")
    ada.fill({"Recovery code": codes[0]})
    ada.click("Log in")
    ada.wait_path("/app")

    # off again, with the password
    ada.link("Account").click()
    ada.wait_text("9 of 10 recovery codes left")
    ada.fill({"Your password": PASSWORD})
    ada.click("Turn off two-factor login")
    ada.wait_text("Two-factor login is off.")
    ada.click("Log out")
    ada.wait_path("/login")
    log_in(ada, "ada@acme.test")
    ada.wait_path("/app")
