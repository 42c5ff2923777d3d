"""browser.py - Debian's Chromium, driven by Selenium (python3-selenium and
chromium-driver), as the browser suite's person at the keyboard.

A Browser is one separate profile (its own cookies and localStorage) in
headless Chromium with the flags this machine needs (no background
networking: the sandbox has no internet). It records what a person would
call a fault of the page: every console error, every uncaught exception and
every Content-Security-Policy violation (a listener is put into each new
document before the page's own scripts run). Failed API calls that a test
provokes (401, 404, 409, 419, 422, 429) show up in Chromium's console as
network errors too; those are expected and kept apart. Every wait is bounded.
"""

import os
import re
import shutil
import tempfile
import time

from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

import sembark

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
WAIT = 15 * sembark.SLOW
FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--lang=en-US"]
# Statuses the API answers on purpose; Chromium logs them as network errors.
EXPECTED_API_STATUS = re.compile(
    r"/api/[^ ]* - Failed to load resource: the server responded with a status of (401|404|409|419|422|429) ")

CSP_LISTENER = """
window.__sembarkFaults = [];
document.addEventListener('securitypolicyviolation', function (e) {
  window.__sembarkFaults.push('CSP violation: ' + e.violatedDirective + ' blocked ' + (e.blockedURI || 'inline'));
});
"""

SCREENSHOT_DIR = os.environ.get("SEMBARK_SCREENSHOTS") or os.path.join(sembark.BUILD_DIR, "test-logs", "screenshots")


def available():
    """Why the browser suite cannot run here, or None when it can."""
    for path in (CHROMIUM, CHROMEDRIVER):
        if not os.access(path, os.X_OK):
            return "%s is missing (scripts/deps.sh installs chromium and chromium-driver)" % path
    return None


class Browser:
    def __init__(self, base_url, width=1280, height=900):
        self.base = base_url.rstrip("/")
        self.profile = tempfile.mkdtemp(prefix="sembark-chromium-")
        opts = webdriver.ChromeOptions()
        opts.binary_location = CHROMIUM
        for flag in FLAGS + ["--user-data-dir=" + self.profile, "--window-size=%d,%d" % (width, height)]:
            opts.add_argument(flag)
        opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        self.d = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
        self.d.set_page_load_timeout(WAIT)
        self.d.set_script_timeout(WAIT)
        self.d.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": CSP_LISTENER})
        self.d.execute_cdp_cmd("Browser.grantPermissions", {
            "origin": self.base, "permissions": ["clipboardReadWrite", "clipboardSanitizedWrite"]})
        self.console = []        # every console entry seen
        self.faults = []         # what counts against the page
        self.expected = []       # API errors the tests provoked

    # ---- navigation and waiting ------------------------------------------

    def go(self, path):
        self.d.get(self.base + path)
        self.wait_ready()

    def wait(self, pred, what, timeout=WAIT):
        end = time.monotonic() + timeout
        last = None
        while time.monotonic() < end:
            try:
                v = pred()
                if v:
                    return v
            except (StaleElementReferenceException, WebDriverException, AssertionError) as e:
                last = e  # e.g. field() before the page drew that label: try again
            time.sleep(0.05)
        raise AssertionError("timed out after %.0f s waiting for %s (url %s, last error %r)\n%s"
                             % (timeout, what, self.d.current_url, last, self.text()[:1500]))

    def wait_ready(self):
        """The app drew its page: the loading text is gone and there is an h1."""
        self.wait(lambda: self.d.execute_script(
            "return !document.querySelector('main .loading') && !!document.querySelector('main h1')"),
            "the page to be drawn")

    def path(self):
        return self.d.execute_script("return location.pathname")

    def wait_path(self, path):
        return self.wait(lambda: self.path() == path and self.d.execute_script(
            "return !!document.querySelector('main h1')"), "the path %s" % path)

    def text(self):
        try:
            return self.d.find_element(By.TAG_NAME, "body").text
        except WebDriverException:
            return ""

    def wait_text(self, text, timeout=WAIT):
        return self.wait(lambda: text in self.text(), repr(text), timeout)

    def h1(self):
        return self.d.find_element(By.CSS_SELECTOR, "main h1").text

    # ---- forms and buttons ---------------------------------------------------

    def field(self, label):
        """The input a visible <label> names (what a person reads)."""
        for lab in self.d.find_elements(By.TAG_NAME, "label"):
            if lab.text.strip() == label and lab.is_displayed():
                return self.d.find_element(By.ID, lab.get_attribute("for"))
        raise AssertionError("no visible label %r on %s" % (label, self.path()))

    def fill(self, values):
        for label, value in values.items():
            el = self.field(label)
            el.clear()
            el.send_keys(value)

    def button(self, text, within=None):
        root = within or self.d
        for b in root.find_elements(By.TAG_NAME, "button"):
            if b.text.strip() == text and b.is_displayed() and b.is_enabled():
                return b
        raise AssertionError("no enabled button %r on %s" % (text, self.path()))

    def button_enabled(self, text):
        return any(b.text.strip() == text and b.is_displayed() and b.is_enabled()
                   for b in self.d.find_elements(By.TAG_NAME, "button"))

    def click(self, text, within=None):
        self.wait(lambda: self.button(text, within), "the button %r" % text).click()

    def link(self, text):
        """The link with this text, once the page has drawn it."""
        return self.wait(lambda: self.d.find_element(By.LINK_TEXT, text), "the link %r" % text)

    def alert_text(self):
        return " ".join(a.text for a in self.d.find_elements(By.CSS_SELECTOR, "main .alert")
                        if a.is_displayed())

    def field_error(self, label):
        el = self.field(label)
        err = self.d.find_element(By.ID, el.get_attribute("id") + "-error")
        return err.text if err.is_displayed() else ""

    def confirm(self, text):
        """Answer the open confirmation dialog with its button `text`."""
        dlg = self.wait(lambda: self.d.find_element(By.CSS_SELECTOR, "dialog[open]"), "a dialog")
        self.button(text, within=dlg).click()
        self.wait(lambda: not self.d.find_elements(By.CSS_SELECTOR, "dialog[open]"), "the dialog to close")

    def keys(self, *keys):
        """Type into whatever has the focus, as a keyboard does."""
        self.d.switch_to.active_element.send_keys(*keys)

    def focused(self):
        return self.d.switch_to.active_element

    def tab_to(self, pred, what, limit=60):
        """Press Tab until the focused element satisfies pred."""
        for _ in range(limit):
            self.keys(Keys.TAB)
            el = self.focused()
            if pred(el):
                return el
        raise AssertionError("Tab never reached %s" % what)

    # ---- state ----------------------------------------------------------------

    def cookie(self, name):
        c = self.d.get_cookie(name)
        return c and c["value"]

    def js(self, script, *args):
        return self.d.execute_script(script, *args)

    def clipboard(self):
        return self.d.execute_async_script(
            "const done = arguments[0]; navigator.clipboard.readText().then(done, (e) => done('ERR ' + e));")

    def local_events(self):
        """Telemetry events waiting in localStorage, every queue."""
        return self.js("""
            const out = [];
            for (let i = 0; i < localStorage.length; i++) {
              const k = localStorage.key(i);
              if (k.startsWith('sembark.telemetry.')) out.push(...JSON.parse(localStorage.getItem(k)));
            }
            return out;""")

    def viewport(self, width, height):
        """A phone-sized viewport (headless windows are at least 500 px wide)."""
        self.d.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
            "width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600})

    def offline(self, off):
        self.d.set_network_conditions(offline=off, latency=0, download_throughput=-1, upload_throughput=-1)

    # ---- faults -----------------------------------------------------------------

    def collect(self):
        for e in self.d.get_log("browser"):
            self.console.append(e)
            msg = e.get("message", "")
            if e.get("level") != "SEVERE":
                continue
            if e.get("source") == "network" and EXPECTED_API_STATUS.search(msg):
                self.expected.append(msg)
            else:
                self.faults.append(msg)
        try:
            self.faults += self.js("const f = window.__sembarkFaults || []; window.__sembarkFaults = []; return f;")
        except WebDriverException:
            pass
        return self.faults

    def expect_fault(self, text):
        """Faults containing text were caused on purpose: keep them apart."""
        self.collect()
        mine = [f for f in self.faults if text in f]
        self.faults = [f for f in self.faults if text not in f]
        self.expected += mine
        return mine

    def assert_clean(self):
        faults = self.collect()
        assert not faults, "the page had faults:\n" + "\n".join(faults)

    def screenshot(self, name):
        os.makedirs(SCREENSHOT_DIR, exist_ok=True)
        path = os.path.join(SCREENSHOT_DIR, name + ".png")
        self.d.save_screenshot(path)
        return path

    def quit(self):
        try:
            self.d.quit()
        finally:
            shutil.rmtree(self.profile, ignore_errors=True)
