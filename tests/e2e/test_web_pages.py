"""test_web_pages.py - the browser client's pages one by one, in Chromium:
what a person sees when something goes wrong (field errors of a 422, a
taken email, a dead or rotated invite link, wrong passwords until the
throttle answers 429, a stale CSRF token that is retried silently), that
the pages can be used with the keyboard alone, label every field, have a
language and a title and fit a 360 px phone, and that the page's own
telemetry survives going offline and is never sent twice.
"""

import json
import re
import time
import uuid

from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

import client
import sembark

PASSWORD = "correct horse battery staple"


def new_team(stack):
    """An owner made through the API (quicker than the page; the story test uses the page)."""
    owner = client.Browser(stack)
    owner.signup(team_name="Page Tests")
    return owner


def open_login(b):
    b.go("/login")
    assert b.h1() == "Log in"


def login_page(stack, browsers, email, password):
    """A new browser, logged in through the login page."""
    b = browsers(stack.url("/"))
    open_login(b)
    b.fill({"Email": email, "Password": password})
    b.click("Log in")
    b.wait_path("/app")
    return b


def test_signup_field_errors_and_taken_email(stack, browsers):
    taken = new_team(stack).email
    b = browsers(stack.url("/"))
    b.go("/")
    b.fill({"Team name": "Errors Inc", "Your name": "Eve", "Email": "not-an-email", "Password": "short"})
    b.click("Create team")
    b.wait(lambda: b.field_error("Email"), "the email field's error")
    assert b.field_error("Email").startswith("Email "), b.field_error("Email")
    assert b.field_error("Password").startswith("Password "), b.field_error("Password")
    assert b.field("Email").get_attribute("aria-invalid") == "true"
    assert "Check the fields marked below." in b.alert_text()
    assert b.field_error("Team name") == ""
    # a valid form with an email that has an account: 409 next to the email
    b.fill({"Email": taken, "Password": PASSWORD})
    b.click("Create team")
    b.wait(lambda: "already exists" in b.field_error("Email"), "the taken-email error")
    assert b.path() == "/"


def test_dead_and_rotated_invite_links(stack, browsers):
    owner = new_team(stack)
    b = browsers(stack.url("/"))
    b.go("/join/" + "0" * 32)
    assert b.h1() == "This invite link does not work"
    assert "Ask the person who shared it" in b.text()
    assert "{" not in b.text()                        # words, not JSON
    # rotating in the dashboard kills the old link at once
    old = owner.invite_url
    ada = login_page(stack, browsers, owner.email, client.PASSWORD)
    link = ada.wait(lambda: ada.field("Invite link").get_attribute("value"), "the invite link")
    assert link == old
    ada.click("Rotate link")
    ada.confirm("Rotate link")
    ada.wait(lambda: ada.field("Invite link").get_attribute("value") != old, "a new link")
    b.go(old[len(stack.url("")):])
    assert b.h1() == "This invite link does not work"
    new = ada.field("Invite link").get_attribute("value")[len(stack.url("")):]
    b.go(new)
    assert b.h1() == "Join Page Tests"
    # someone logged in who opens a link: told to log out first, and stays on the page
    ada.go(new)
    assert "log out first" in ada.text()
    assert not ada.button_enabled("Join team")
    ada.click("Log out to join Page Tests")
    ada.wait(lambda: ada.button_enabled("Join team"), "the join form")
    assert ada.path() == new


def test_wrong_passwords_until_throttled(stack, browsers):
    owner = new_team(stack)
    b = browsers(stack.url("/"))
    open_login(b)
    seen = []
    for _ in range(8):
        b.fill({"Email": owner.email, "Password": "a wrong password %d" % len(seen)})
        b.click("Log in")
        b.wait(lambda: b.alert_text() and b.button("Log in"), "an answer")
        seen.append(b.alert_text())
        if "Too many attempts" in seen[-1]:
            break
    assert "do not match an account" in seen[0], seen
    assert re.search(r"Too many attempts\. Wait (\d+ seconds|about a minute|1 second) before trying again\.",
                     seen[-1]), seen
    # the right password is refused too while the window lasts, in the same words
    b.fill({"Password": client.PASSWORD})
    b.click("Log in")
    b.wait(lambda: "Too many attempts" in b.alert_text() and b.button("Log in"), "the throttle again")
    assert b.path() == "/login"
    b.collect()
    assert any("status of 429" in e for e in b.expected), b.expected


def test_stale_csrf_token_is_retried_silently(stack, browsers):
    owner = new_team(stack)
    b = browsers(stack.url("/"))
    open_login(b)
    # a token from another browser: well-formed, bound elsewhere -> 419
    b.d.add_cookie({"name": "XSRF-TOKEN", "value": owner.xsrf, "path": "/"})
    b.fill({"Email": owner.email, "Password": client.PASSWORD})
    b.click("Log in")
    b.wait_path("/app")
    b.collect()
    assert any("/api/login" in e and "status of 419" in e for e in b.expected), b.expected
    assert "Page Tests" in b.text()


def test_keyboard_only(stack, browsers):
    owner = new_team(stack)
    b = browsers(stack.url("/"))
    open_login(b)
    b.d.find_element(By.TAG_NAME, "body").click()
    b.js("document.activeElement.blur()")
    email = b.tab_to(lambda el: el.get_attribute("name") == "email", "the email field")
    email.send_keys(owner.email)
    b.keys(Keys.TAB)
    assert b.focused().get_attribute("name") == "password"
    b.keys(client.PASSWORD, Keys.ENTER)
    b.wait_path("/app")
    b.tab_to(lambda el: el.text == "My sessions", "the My sessions link").send_keys(Keys.ENTER)
    b.wait_path("/app/sessions")
    b.tab_to(lambda el: el.text == "Team", "the Team link").send_keys(Keys.ENTER)
    b.wait_path("/app")
    b.wait(lambda: b.field("Invite link").get_attribute("value"), "the invite link")
    b.tab_to(lambda el: el.text == "Rotate link", "the Rotate button").send_keys(Keys.ENTER)
    dlg = b.wait(lambda: b.d.find_element(By.CSS_SELECTOR, "dialog[open]"), "the dialog")
    assert b.focused().text == "Cancel"                 # the safe answer has the focus
    b.keys(Keys.ESCAPE)
    b.wait(lambda: not b.d.find_elements(By.CSS_SELECTOR, "dialog[open]"), "the dialog to close")
    assert b.field("Invite link").get_attribute("value") == owner.invite_url
    assert dlg is not None


LABELS_JS = """
return [...document.querySelectorAll('input, select, textarea')]
  .filter((el) => el.type !== 'hidden')
  .filter((el) => !el.labels || ![...el.labels].some((l) => l.offsetParent !== null && l.textContent.trim()))
  .map((el) => el.name || el.id);"""


def check_page(b, name, width):
    assert b.js("return document.documentElement.lang") == "en", name
    assert b.d.title.strip() and b.d.title != "sembark", (name, b.d.title)
    assert b.js(LABELS_JS) == [], (name, b.js(LABELS_JS))
    assert b.js("return document.documentElement.scrollWidth") <= width, (name, "scrolls sideways")
    for btn in b.d.find_elements(By.CSS_SELECTOR, "button"):
        if btn.is_displayed():
            assert btn.text.strip() or btn.get_attribute("aria-label"), (name, "a button without words")


def test_pages_are_labelled_and_fit_a_phone(stack, browsers):
    owner = new_team(stack)
    for width, height in ((360, 740), (1280, 900)):
        b = browsers(stack.url("/"), width=width, height=height)
        b.viewport(width, height)
        b.go("/")
        check_page(b, "home", width)
        b.go("/join/" + client.invite_code(owner.invite_url))
        check_page(b, "join", width)
        open_login(b)
        check_page(b, "login", width)
        b.fill({"Email": owner.email, "Password": client.PASSWORD})
        b.click("Log in")
        b.wait_path("/app")
        b.wait(lambda: b.field("Invite link").get_attribute("value"), "the invite link")
        for part in ("Team", "My sessions", "Account", "Insights", "Audit trail"):
            b.link(part).click()
            b.wait(lambda: b.d.find_element(By.CSS_SELECTOR, "a[aria-current=page]").text == part, part)
            b.wait_ready()
            time.sleep(0.2)                            # charts draw on the next frame
            check_page(b, part, width)
            if width == 360 and part in ("Team", "Insights"):
                b.screenshot("phone-" + part.lower())
        b.click("Log out")
        b.wait_path("/login")


def test_telemetry_survives_offline_and_is_stored_once(stack, browsers):
    owner = new_team(stack)
    b = login_page(stack, browsers, owner.email, client.PASSWORD)
    b.wait(lambda: b.field("Invite link").get_attribute("value"), "the invite link")
    b.click("Copy link")
    b.wait(lambda: not b.local_events(), "the first events to be sent", timeout=30)

    # offline: the events stay in localStorage, the page says it cannot reach sembark
    b.offline(True)
    b.wait(lambda: not b.js("return navigator.onLine"), "the browser to go offline")
    b.click("Copy link")
    b.link("My sessions").click()                   # a call that fails
    b.wait(lambda: b.d.find_element(By.ID, "banner").is_displayed(), "the cannot-reach banner")
    b.wait(lambda: {"network_status", "connectivity", "feature_interaction"} <= {e["type"] for e in b.local_events()},
           "offline events kept")
    kept = b.local_events()
    kinds = {(e["type"], json.dumps(e["attrs"], sort_keys=True)) for e in kept}
    assert ("network_status", '{"online": false}') in kinds, kinds
    assert ("connectivity", '{"state": "disconnected"}') in kinds, kinds
    for e in kept:
        assert set(e["client"]) == {"app_version", "os_version", "display"}
        assert e["client"]["os_version"] == "Linux"     # never the user agent

    # online again: everything arrives, with the ids it was kept under
    assert b.expect_fault("net::ERR_INTERNET_DISCONNECTED")    # the failed calls, as expected
    b.offline(False)
    b.wait(lambda: not b.local_events(), "the kept events to be sent", timeout=60)
    b.expect_fault("net::ERR_INTERNET_DISCONNECTED")           # retries before it came back
    b.wait(lambda: not b.d.find_element(By.ID, "banner").is_displayed(), "the banner to go")
    ids = [e["id"] for e in kept]
    rows = stack.pg.query("SELECT id::text, type, attrs::text FROM telemetry_events WHERE id = ANY(%s::uuid[])", (ids,))
    assert sorted(r[0] for r in rows) == sorted(ids), (rows, ids)
    types = {(r[0], r[1]) for r in stack.pg.query(
        "SELECT type, attrs::text FROM telemetry_events WHERE user_id = %s::uuid", (owner.me().json()["user"]["id"],))}
    assert ("network_status", '{"online": true}') in types, types
    assert ("connectivity", '{"state": "connected"}') in types, types

    # the same events sent again (as after a lost 202) are stored once
    b.js("localStorage.setItem('sembark.telemetry.v1.' + arguments[0], arguments[1])",
         owner.me().json()["user"]["id"], json.dumps(kept))
    b.link("Account").click()
    b.wait(lambda: not b.local_events(), "the re-sent events to be answered", timeout=30)
    rows = stack.pg.query("SELECT count(*) FROM telemetry_events WHERE id = ANY(%s::uuid[])", (ids,))
    assert rows[0][0] == len(ids), rows


def test_page_errors_are_reported_without_urls(stack, browsers):
    owner = new_team(stack)
    b = login_page(stack, browsers, owner.email, client.PASSWORD)
    marker = uuid.uuid4().hex[:8]
    # a real uncaught error; its script came from WebDriver, so the page
    # only learns "Script error." (errors of foreign scripts are muted)
    b.js("setTimeout(() => { throw new Error('boom-%s'); });" % marker)
    b.wait(lambda: b.expect_fault("boom-" + marker), "the uncaught error in the console")
    # what the page's handlers get from its own scripts: message and reason
    b.js("""
        window.dispatchEvent(new ErrorEvent('error', {message: 'Uncaught Error: err-' + arguments[0] +
            ' at https://evil.test/x?token=' + 'ab'.repeat(20)}));
        window.dispatchEvent(new PromiseRejectionEvent('unhandledrejection', {promise: Promise.resolve(),
            reason: new Error('nope-' + arguments[0] + ' for ada@acme.test')}));""", marker)
    b.wait(lambda: not b.local_events(), "the error events to be sent", timeout=30)
    rows = stack.pg.query("SELECT attrs->>'source', attrs->>'message' FROM telemetry_events "
                          "WHERE type = 'error' AND user_id = %s::uuid ORDER BY received_at, 2",
                          (owner.me().json()["user"]["id"],))
    msgs = {m: src for src, m in rows}
    assert msgs.get("Script error.") == "onerror", rows
    err = [m for m in msgs if "err-" + marker in m]
    nope = [m for m in msgs if "nope-" + marker in m]
    assert len(err) == 1 and msgs[err[0]] == "onerror", rows
    assert "evil.test" not in err[0] and "token" not in err[0] and "[url]" in err[0], err
    assert len(nope) == 1 and msgs[nope[0]] == "unhandledrejection", rows
    assert "acme.test" not in nope[0] and "[email]" in nope[0], nope


def test_log_out_all_other_sessions(stack, browsers):
    owner = new_team(stack)                         # a session outside the browser
    b = login_page(stack, browsers, owner.email, client.PASSWORD)
    b.link("My sessions").click()
    b.wait(lambda: len(b.d.find_elements(By.CSS_SELECTOR, "li.session")) == 2, "two sessions")
    b.click("Log out all other sessions")
    b.wait(lambda: len(b.d.find_elements(By.CSS_SELECTOR, "li.session")) == 1, "one session left")
    b.wait_text("Every other session was ended")
    assert not b.button_enabled("Log out all other sessions")
    assert owner.get("/api/me").status_code == 401
    assert b.js("return !!document.querySelector('li.session.current')")


def test_change_password(stack, browsers):
    owner = new_team(stack)
    b = login_page(stack, browsers, owner.email, client.PASSWORD)
    b.link("Account").click()
    b.wait_path("/app/account")
    assert owner.email in b.text() and "Owner" in b.text()
    new = "a new and long passphrase"
    b.fill({"Current password": "not the password", "New password": new, "Repeat the new password": new + "x"})
    b.click("Change password")
    b.wait(lambda: b.field_error("Repeat the new password"), "the repeat error")
    assert "does not match" in b.field_error("Repeat the new password")
    b.fill({"Repeat the new password": new})
    b.click("Change password")
    b.wait(lambda: b.field_error("Current password"), "the current-password error")
    assert b.field_error("Current password") == "Current password is incorrect."
    b.fill({"Current password": client.PASSWORD, "New password": new, "Repeat the new password": new})
    b.click("Change password")
    b.wait(lambda: "Your password was changed" in b.alert_text(), "the success message")
    assert b.field("New password").get_attribute("value") == ""
    assert owner.get("/api/me").status_code == 401   # the other session ended
    b.link("Team").click()                          # this one goes on
    b.wait_path("/app")
    assert client.Browser(stack).login(owner.email, new).status_code == 200
