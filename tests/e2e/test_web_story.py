"""test_web_story.py - the browser client, end to end, as its people use it.

One story in real Chromium against the real daemons: Ada creates a team on
the home page and copies the invite link; Bob opens that link in a browser
of his own and joins; Ada sees him, makes him an admin; Ada logs in on a
second browser (a wrong password first), revokes that session from the
first and the second is sent to the login page at its next action; Ada
removes Bob, whose next action also ends at the login page; the page's own
telemetry (feature use, network status, connectivity, errors) reaches the
Insights charts; Ada logs out. Screenshots of the pages are kept (see
browser.SCREENSHOT_DIR; `make screenshots` writes them to docs/).
"""

import re

from selenium.webdriver.common.by import By

import sembark

PASSWORD = "correct horse battery staple"
VERSION = open(sembark.REPO_ROOT + "/VERSION").read().strip()


def signup(b, team, name, email):
    b.go("/")
    assert b.h1() == "Team accounts on your own server"
    b.screenshot("home")
    b.fill({"Team name": team, "Your name": name, "Email": email, "Password": PASSWORD})
    b.click("Create team")
    b.wait_path("/app")
    b.wait_text("Members (1)")


def join(b, stack, link, name, email):
    """b opens the invite link and joins with its form."""
    b.go(link[len(stack.url("")):])
    b.fill({"Your name": name, "Email": email, "Password": PASSWORD})
    b.click("Join team")


def member_row(b, name):
    for li in b.d.find_elements(By.CSS_SELECTOR, "li.member"):
        if li.text.startswith(name):
            return li
    return None


def fetch_json(b, path):
    return b.d.execute_async_script("""
        const done = arguments[arguments.length - 1];
        fetch(arguments[0], {credentials: 'same-origin', headers: {Accept: 'application/json'}})
          .then(async (r) => done({status: r.status, body: await r.json().catch(() => null)}),
                (e) => done({status: 0, body: String(e)}));""", path)


def test_team_story(stack, browsers):
    ada = browsers(stack.url("/"))
    signup(ada, "Acme Rockets", "Ada Owner", "ada@acme.test")
    assert ada.d.title == "Acme Rockets · sembark"
    assert "Welcome to sembark" in ada.alert_text()

    # the invite link, copied with the button
    link = ada.wait(lambda: ada.field("Invite link").get_attribute("value"), "the invite link")
    assert re.fullmatch(re.escape(stack.url("/join/")) + r"[0-9a-f]{32,}", link), link
    ada.click("Copy link")
    ada.wait_text("Invite link copied")
    assert ada.clipboard() == link
    ada.screenshot("dashboard")

    # Bob joins through it, in a browser of his own
    bob = browsers(stack.url("/"))
    bob.go(link[len(stack.url("")):])
    assert bob.h1() == "Join Acme Rockets"
    assert bob.d.title == "Join Acme Rockets · sembark"
    bob.screenshot("join")
    bob.fill({"Your name": "Bob Builder", "Email": "bob@acme.test", "Password": PASSWORD})
    bob.click("Join team")
    bob.wait_path("/app")
    bob.wait_text("Members (2)")
    assert "You are a member of this team." in bob.text()
    assert "Ask an owner or admin" in bob.text()          # members see no invite link
    assert not [a for a in bob.d.find_elements(By.LINK_TEXT, "Insights")]

    # Ada sees Bob and makes him an admin
    ada.link("My sessions").click()
    ada.wait_path("/app/sessions")
    ada.link("Team").click()
    ada.wait(lambda: member_row(ada, "Bob Builder"), "Bob in Ada's member list")
    ada.click("Make admin", within=member_row(ada, "Bob Builder"))
    ada.wait(lambda: "Admin" in member_row(ada, "Bob Builder").text, "Bob's new role")
    ada.wait_text("Bob Builder is now an admin")
    rows = stack.pg.query("SELECT role FROM users WHERE email = 'bob@acme.test'")
    assert rows == [("admin",)], rows

    # Ada on a second browser: a wrong password, then the right one
    ada2 = browsers(stack.url("/"))
    ada2.go("/login")
    assert ada2.d.title == "Log in · sembark"
    ada2.fill({"Email": "ada@acme.test", "Password": "not my password at all"})
    ada2.click("Log in")
    ada2.wait(lambda: "do not match an account" in ada2.alert_text(), "the wrong-password message")
    assert ada2.path() == "/login"
    assert ada2.field("Password").get_attribute("value") == ""
    ada2.fill({"Password": PASSWORD})
    ada2.click("Log in")
    ada2.wait_path("/app")

    # ... whose session Ada revokes from the first browser
    ada.link("My sessions").click()
    ada.wait_path("/app/sessions")
    ada.wait(lambda: len(ada.d.find_elements(By.CSS_SELECTOR, "li.session")) == 2, "two sessions")
    current = ada.d.find_element(By.CSS_SELECTOR, "li.session.current")
    assert "This device" in current.text and "Chrome on Linux" in current.text
    assert not current.find_elements(By.TAG_NAME, "button")
    other = [li for li in ada.d.find_elements(By.CSS_SELECTOR, "li.session") if "current" not in li.get_attribute("class")][0]
    for word in ("Started", "Last used", "Ends"):
        assert word in other.text
    ada.screenshot("sessions")
    ada.click("Revoke", within=other)
    ada.wait(lambda: len(ada.d.find_elements(By.CSS_SELECTOR, "li.session")) == 1, "one session left")
    ada2.link("Account").click()                           # its next action
    ada2.wait_path("/login")
    ada2.wait(lambda: "Your session has ended" in ada2.alert_text(), "the session-ended message")

    # Ada removes Bob, after a confirmation; Bob's next action ends at the login page
    ada.link("Team").click()
    ada.wait(lambda: member_row(ada, "Bob Builder"), "Bob in the list")
    ada.click("Remove", within=member_row(ada, "Bob Builder"))
    dialog = ada.d.find_element(By.CSS_SELECTOR, "dialog[open]")
    assert "Remove Bob Builder?" in dialog.text
    ada.confirm("Remove member")
    ada.wait(lambda: member_row(ada, "Bob Builder") is None, "Bob gone from the list")
    ada.wait_text("Members (1)")
    bob.link("My sessions").click()
    bob.wait_path("/login")

    # the page's own telemetry reached the server: the Insights charts show it
    ada.link("Insights").click()
    ada.wait_path("/app/insights")

    def features_seen():
        ada.d.refresh()
        ada.wait_ready()
        ada.wait(lambda: ada.d.find_elements(By.CSS_SELECTOR, ".insights svg, .insights .alert"), "the charts")
        return "invite.copy" in ada.text() and "members.role" in ada.text()

    ada.wait(features_seen, "invite.copy and members.role in the Features chart", timeout=30)
    svgs = ada.d.find_elements(By.CSS_SELECTOR, ".insights svg.chart-svg")
    assert len(svgs) == 5, len(svgs)
    assert ada.d.find_elements(By.CSS_SELECTOR, ".insights svg rect.series-0")
    assert VERSION in ada.text() and "Linux" in ada.text()
    ada.screenshot("insights")

    rows = stack.pg.query("SELECT DISTINCT app_version, os_version FROM telemetry_events "
                          "WHERE type = 'feature_interaction' AND team_id = "
                          "(SELECT team_id FROM users WHERE email = 'ada@acme.test')")
    assert rows == [(VERSION, "Linux")], rows

    # the audit trail, newest first
    ada.link("Audit trail").click()
    ada.wait_path("/app/audit")
    ada.wait(lambda: ada.d.find_elements(By.CSS_SELECTOR, "table.audit tbody tr"), "audit rows")
    body = ada.text()
    for words in ("Team created", "Joined the team", "Role changed", "Session revoked", "Member removed"):
        assert words in body, words
    ada.screenshot("audit")

    # log out: the session is dead
    ada.click("Log out")
    ada.wait_path("/login")
    ada.wait(lambda: "You have logged out." in ada.alert_text(), "the logged-out message")
    assert fetch_json(ada, "/api/me")["status"] == 401
