"""test_redaction.py - defence in depth: whatever a daemon sends, logd
stores no IP address, token or credential. Log records (message and
field values) and audit events (emails) pushed to logd's PULL come out
redacted ("[ip]", "[token]", "[redacted]"), the rest of the text intact;
logd reports how many redactions it made ("redactions count=N" in its own
log, and in its totals at stop). Last, a scan of every row of every table
finds nothing that looks like an IP address: once in this module, and
once more when the whole session ends (a session fixture's teardown, so
the rows every other test stored are covered too)."""

import datetime
import time

import pytest

import sembark
from audit_client import audit_body, new_id, push_audit, scan_all_tables, wait_stored_audit

pytestmark = pytest.mark.skipif(not sembark.have_zmq(),
                                reason="python3-zmq/python3-msgpack not installed")

TOKEN = "0123456789abcdef0123456789abcdef01234567"
HASH = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
SECRETS = ("203.0.113.9", "198.51.100.7", "2001:db8::1", "fe80::1ff:fe23:4567:890a",
           "::ffff:10.0.0.1", "10.1.2.3", TOKEN, HASH, "Bearer abc.def", "s3cr3t-cookie",
           "hunter2hunter2", "xsrf-value-1")
KEPT = ("app 2.4.1", "2026-11-29", "05:00:00", "0b5c6a8e-4a43-4c43-9a3e-6f1c1b9d2f10")


def rows_with(pg, marker):
    return pg.query("SELECT message, fields FROM logs WHERE message LIKE %s", ("%" + marker + "%",))


def test_log_record_redacted(stack, pg):
    marker = "it-redaction-%d" % int(time.time() * 1000)
    t0 = datetime.datetime.now(datetime.timezone.utc)
    msg = ("%s peer 203.0.113.9 via [2001:db8::1]:443 mapped ::ffff:10.0.0.1 token %s "
           "Authorization: Bearer abc.def" % (marker, TOKEN))
    fields = {
        "peer": "198.51.100.7", "addr": "fe80::1ff:fe23:4567:890a%eth0", "hash": HASH,
        "header": "Cookie: sembark_session=s3cr3t-cookie; XSRF-TOKEN=xsrf-value-1",
        "password": "hunter2hunter2", "note": "from 10.1.2.3:5555",
        "kept": "app 2.4.1 on 2026-11-29 at 05:00:00 team 0b5c6a8e-4a43-4c43-9a3e-6f1c1b9d2f10",
    }
    sembark.push_frames(sembark.endpoint(stack, "log"),
                        [sembark.ipc_frame("log.record", sembark.log_record_body(msg, fields=fields))])
    got = sembark.wait_until(lambda: rows_with(pg, marker), 10, interval=0.1,
                             what="the pushed record in table logs")
    assert len(got) == 1, got
    message, stored = got[0]
    blob = message + " " + str(stored)
    for s in SECRETS:
        assert s not in blob, "%r stored: %r" % (s, got[0])
    assert sembark.find_ip_addresses(blob) == [], blob
    assert message.startswith(marker + " peer [ip] via [[ip]]:443 mapped [ip] token [token] "
                                       "Authorization: [redacted]"), message
    assert stored["peer"] == "[ip]" and stored["hash"] == "[token]", stored
    assert stored["password"] == "[redacted]", stored
    assert stored["header"] == "Cookie: [redacted]", stored
    assert stored["note"] == "from [ip]:5555", stored
    assert stored["kept"] == fields["kept"], stored

    # logd counts what it redacted in its own log
    def counted():
        return pg.query("SELECT fields FROM logs WHERE service = 'logd' AND message = 'redactions' "
                        "AND at >= %s", (t0,))
    rec = sembark.wait_until(counted, 10, interval=0.1, what="logd's 'redactions' record")
    assert sum(int(f["count"]) for (f,) in rec) >= 9, rec
    assert stack.stop("logd") == 0
    totals = [l for l in stack.stderr("logd").splitlines() if 'msg="log totals"' in l]
    assert totals and int(dict(sembark.parse_logfmt(totals[-1]))["redactions"]) >= 9, totals


def test_audit_event_redacted(stack, pg):
    team = new_id()
    push_audit(stack, [audit_body("login_failed", team, None,
                                  (new_id(), "bob@[192.0.2.1]")),
                       audit_body("login", team, (new_id(), TOKEN + "@example.com"),
                                  (new_id(), "carol@example.com"))])
    rows = wait_stored_audit(pg, team, 2)
    emails = sorted(filter(None, [r[4] for r in rows] + [r[6] for r in rows]))
    assert emails == ["[token]@example.com", "bob@[[ip]]", "carol@example.com"], rows


def test_secret_field_keys_redacted(stack, pg):
    """A field whose key names a secret is stored as "[redacted]" whatever its value."""
    marker = "it-own-%d" % int(time.time() * 1000)
    sembark.push_frames(sembark.endpoint(stack, "log"), [sembark.ipc_frame(
        "log.record", sembark.log_record_body(marker, fields={"session_token": "abc", "token": "x"}))])
    got = sembark.wait_until(lambda: rows_with(pg, marker), 10, interval=0.1, what="the record")
    assert got[0][1] == {"session_token": "[redacted]", "token": "[redacted]"}, got


def test_no_ip_address_in_any_table(stack, pg):
    stack.get("/healthz")
    time.sleep(0.3)
    tables, bad = scan_all_tables(pg)
    assert "logs" in tables and "audit_events" in tables, tables
    assert bad == [], "IP-like strings stored:\n" + "\n".join(repr(b) for b in bad[:20])


@pytest.fixture(scope="session")
def final_scan(pg, migrated):
    """Scan every table once more when the session ends, after every test."""
    yield
    tables, bad = scan_all_tables(pg)
    assert bad == [], "after the suite, IP-like strings stored:\n" + "\n".join(
        repr(b) for b in bad[:20])


def test_scan_again_at_session_end(final_scan):
    """Arms final_scan: its teardown (at the end of the session) fails the
    run if any test left an IP address in any table."""
