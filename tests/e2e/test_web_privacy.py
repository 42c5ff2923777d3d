"""test_web_privacy.py - a person's data rights in the browser, end to end, in real Chromium
against the real daemons and PostgreSQL: Grace (owner) and Alan (member) of one team; Alan
downloads his data from the Account page (the JSON file that lands in the download folder is
his export: his account, his sessions, no token), then deletes his account (a wrong password
first, then the confirmation dialog) and lands signed out on the login page, unable to log in
again; Grace cannot leave her team while it has members, sees Alan's erasure in the audit
trail as "[erased]", and deletes the team from the Team page. Screenshots: privacy-your-data,
privacy-delete-team."""

import glob
import json
import os
import time

from test_web_story import PASSWORD, join, signup
from test_web_two_factor import log_in


def allow_downloads(b):
    folder = os.path.join(b.profile, "downloads")
    os.makedirs(folder, exist_ok=True)
    b.d.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": folder})
    return folder


def downloaded(folder, timeout=15):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        done = [p for p in glob.glob(os.path.join(folder, "*.json"))]
        if done:
            return done[0]
        time.sleep(0.1)
    raise AssertionError("no JSON file arrived in %s: %r" % (folder, os.listdir(folder)))


def test_export_and_erasure(stack, browsers):
    grace = browsers(stack.url("/"))
    signup(grace, "Harvard Mark", "Grace Owner", "grace@harvard.test")
    link = grace.wait(lambda: grace.field("Invite link").get_attribute("value"), "the invite link")

    alan = browsers(stack.url("/"))
    join(alan, stack, link, "Alan Member", "alan@harvard.test")
    alan.wait_path("/app")
    alan.wait_text("Members (2)")

    # Alan takes his data out
    alan.link("Account").click()
    alan.wait_text("Your data")
    folder = allow_downloads(alan)
    alan.click("Download my data")
    alan.wait_text("Your data was saved as a file")
    alan.js("document.getElementById('data-title').scrollIntoView()")
    alan.screenshot("privacy-your-data")
    path = downloaded(folder)
    assert os.path.basename(path).startswith("sembark-data-")
    doc = json.load(open(path))
    assert doc["account"]["email"] == "alan@harvard.test"
    assert doc["team"]["name"] == "Harvard Mark"
    assert len(doc["sessions"]) == 1 and "token" not in json.dumps(doc["sessions"])
    assert alan.cookie("sembark_session") not in open(path).read()

    # the owner cannot leave a team with members
    grace.link("Account").click()
    grace.wait_text("Your data")
    assert "As the owner you can delete your account only once you are the last member" in grace.text()
    grace.fill({"Your password, to confirm": PASSWORD})
    grace.click("Delete my account")
    grace.confirm("Delete my account")
    grace.wait(lambda: "cannot leave a team with members" in grace.alert_text(), "the owner's 409")
    grace.expect_fault("409")

    # Alan deletes his account: a wrong password first, then for real
    alan.fill({"Your password, to confirm": "not my password at all"})
    alan.click("Delete my account")
    alan.confirm("Delete my account")
    alan.wait(lambda: alan.field_error("Your password, to confirm"), "the wrong password's message")
    alan.expect_fault("422")
    alan.fill({"Your password, to confirm": PASSWORD})
    alan.click("Delete my account")
    alan.confirm("Delete my account")
    alan.wait_path("/login")
    alan.wait_text("Your account and its data were erased.")
    assert alan.cookie("sembark_session") is None
    log_in(alan, "alan@harvard.test")
    alan.wait(lambda: "do not match an account" in alan.alert_text(), "the login refused")
    alan.expect_fault("401")

    # Grace sees the erasure in the trail, with the placeholder, and Alan gone
    grace.link("Team").click()
    grace.wait_text("Members (1)")
    grace.link("Audit trail").click()
    grace.wait_text("Account erased")
    assert "alan@harvard.test" not in grace.text()
    assert "[erased]" in grace.text()

    # then the team, from the Team page
    grace.link("Team").click()
    grace.wait_text("Delete team")
    grace.js("document.getElementById('team-erase-title').scrollIntoView()")
    grace.screenshot("privacy-delete-team")
    grace.fill({"Your password, to confirm": PASSWORD})
    grace.click("Delete team")
    grace.confirm("Delete team")
    grace.wait_path("/login")
    grace.wait_text("Harvard Mark and every account in it were erased.")
    assert stack.pg.query("SELECT count(*) FROM users WHERE email LIKE '%%@harvard.test'")[0][0] == 0
    grace.assert_clean()
    alan.assert_clean()
