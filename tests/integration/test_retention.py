"""test_retention.py - retention by dropping whole daily partitions, and
`sembarkctl retention --now TIMESTAMP [--dry-run]`.

Each test runs on a database of its own (migrated here) with a stack on
it, so that dropping "today" (which --now 31 days ahead does) touches no
other test's data. Rows with old and new timestamps are inserted as the
owner, into partitions made through the ensure functions. Then:

  - --dry-run prints what a real run removes and changes nothing;
  - --now 31 days ahead removes exactly the partitions whose whole day is
    older than 30 days (logs, audit_events, telemetry_events), expired
    sessions, login failures older than an hour and dedupe rows older
    than 8 days, and nothing newer; with a cutoff on a UTC midnight the
    row boundary is exact to the microsecond;
  - everything keeps working afterwards: a log record, an audit event and a
    telemetry event for a day whose partition is gone are stored, sign-up
    and login work;
  - logd applies [logs] retention_days by itself at start, and its role
    cannot reach into the last day;
  - bad arguments exit 2.
"""

import datetime
import hashlib
import os
import re
import secrets
import uuid

import pytest

import sembark
from audit_client import audit_body, new_id, push_audit, read_audit
from client import Browser, accounts_available, new_email

pytestmark = pytest.mark.skipif(not sembark.have_zmq(),
                                reason="python3-zmq/python3-msgpack not installed")

UTC = datetime.timezone.utc
DAY = datetime.timedelta(days=1)
HOUR = datetime.timedelta(hours=1)
PARTITIONED = {"logs": "sembark_ensure_log_partitions",
               "audit_events": "sembark_ensure_audit_partitions",
               "telemetry_events": "sembark_ensure_telemetry_partitions"}


def rfc3339(dt):
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class Db:
    """A migrated database of its own and the config naming it."""

    def __init__(self, pg, sec, base_dir):
        self.pg = pg
        self.name = "sembark_rt_%s" % secrets.token_hex(4)
        pg.query("CREATE DATABASE %s OWNER %s" % (self.name, sembark.OWNER), dbname="postgres")
        d = os.path.join(base_dir, self.name)
        os.makedirs(d)
        self.config = os.path.join(d, "sembark.conf")
        with open(self.config, "w") as f:
            f.write(sembark.config_text(pg, sec, 1, os.path.join(d, "run"),
                                        {"database": {"name": self.name}}))
        r = sembark.run_ctl(self.config, "migrate")
        assert r.returncode == 0, (r.stdout, r.stderr)

    def q(self, sql, params=None, **kw):
        return self.pg.query(sql, params, dbname=self.name, **kw)

    def ctl(self, *args):
        return sembark.run_ctl(self.config, *args)

    def drop(self):
        self.pg.query("DROP DATABASE IF EXISTS %s WITH (FORCE)" % self.name, dbname="postgres")

    def partitions(self, table):
        """{name: upper bound} of table's partitions."""
        rows = self.q(
            "SELECT c.relname, (regexp_match(pg_get_expr(c.relpartbound, c.oid), "
            "'TO \\(''([^'']+)''\\)'))[1]::timestamptz FROM pg_inherits i "
            "JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = %s::regclass",
            ("public." + table,))
        return dict(rows)

    def state(self):
        """Everything retention may touch, to compare before and after."""
        s = {t: sorted(self.partitions(t)) for t in PARTITIONED}
        # (the daemons may log meanwhile: only the seeded log rows count)
        for t, col in (("logs", "message"), ("audit_events", "id"), ("telemetry_events", "id"),
                       ("sessions", "id"), ("login_failures", "at"), ("telemetry_seen", "event_id")):
            where = " WHERE message ~ '^o[0-9]+$'" if t == "logs" else ""
            s[t + ".rows"] = sorted(str(r[0]) for r in self.q("SELECT %s FROM %s%s" % (col, t, where)))
        return s


@pytest.fixture
def db(pg, sec, base_dir, migrated):
    d = Db(pg, sec, base_dir)
    yield d
    d.drop()


@pytest.fixture
def rstack(make_stack, db):
    return make_stack(config={"database": {"name": db.name}})


def seed(db, now, offsets):
    """Rows at now + each offset in logs, audit_events and telemetry_events
    (markers "o<index>"), partitions for all of them made first."""
    days = sorted({(now + o).date() for o in offsets})
    for table, fn in PARTITIONED.items():
        db.q("SELECT %s(%%s::date, %%s)" % fn, (days[0], (days[-1] - days[0]).days + 1))
    team = new_id()
    for i, o in enumerate(offsets):
        at = now + o
        db.q("INSERT INTO logs (at, service, level, message, fields) VALUES (%s, 'ingressd', "
             "'info', %s, '{}')", (at, "o%d" % i))
        db.q("INSERT INTO audit_events (at, team_id, event, actor_email) VALUES (%s, %s, 'login', %s)",
             (at, team, "o%d@example.com" % i))
        db.q("INSERT INTO telemetry_events (id, team_id, user_id, type, occurred_at) VALUES "
             "(%s, %s, %s, 'sign_in', %s)", (new_id(), team, new_id(), at))
    return team


def markers(db):
    """The markers still stored, per table."""
    return {
        "logs": sorted(m for (m,) in db.q("SELECT message FROM logs WHERE message ~ '^o[0-9]+$'")),
        "audit_events": sorted(e.split("@")[0] for (e,) in db.q(
            "SELECT actor_email FROM audit_events WHERE actor_email ~ '^o[0-9]+@'")),
        "telemetry": db.q("SELECT count(*) FROM telemetry_events")[0][0],
    }


def seed_accounts(db, now):
    """A team, a user, sessions and throttle rows with chosen times; what must stay."""
    team = db.q("INSERT INTO teams (name) VALUES ('rt') RETURNING id::text")[0][0]
    user = db.q("INSERT INTO users (team_id, email, name, password_hash, role) VALUES "
                "(%s, %s, 'rt', '$2b$04$xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx', "
                "'owner') RETURNING id::text", (team, "rt-%s@example.com" % uuid.uuid4().hex[:8]))[0][0]
    keep, gone = [], []
    for exp in (HOUR, 30 * DAY, 31 * DAY - HOUR, 31 * DAY + HOUR, 60 * DAY):
        sid = db.q("INSERT INTO sessions (token_hash, user_id, created_at, expires_at, device_name) "
                   "VALUES (%s, %s, %s, %s, 'rt') RETURNING id::text",
                   (hashlib.sha256(os.urandom(20)).digest(), user, now - HOUR, now + exp))[0][0]
        (keep if exp > 31 * DAY else gone).append(sid)
    fails = {"gone": [now - 2 * HOUR, now, now + 31 * DAY - 2 * HOUR],
             "keep": [now + 31 * DAY - HOUR / 2, now + 31 * DAY + HOUR]}
    for at in fails["gone"] + fails["keep"]:
        db.q("INSERT INTO login_failures (email_hash, at) VALUES (%s, %s)", (os.urandom(32), at))
    seen = {"gone": now - DAY, "keep": now + 25 * DAY}
    for at in seen.values():
        db.q("INSERT INTO telemetry_seen (user_id, event_id, seen_at) VALUES (%s, %s, %s)",
             (new_id(), new_id(), at))
    return {"sessions": (keep, gone), "failures": fails, "seen": seen}


def check_left(db, table, before, dropped_names, now):
    """Nothing but dropped_names went; a dropped day is back only if a daemon
    stored a row for it since (today or later: that is "a missing partition
    is created when a row arrives"), and then holds no old row."""
    left = db.partitions(table)
    assert set(before) - set(dropped_names) <= set(left), (table, sorted(before), sorted(left))
    back = set(left) & set(dropped_names)
    assert all(left[p] > now for p in back), (table, sorted(back))


def lines(out, table):
    return [l for l in out.splitlines() if l.startswith(table + ":")]


def dropped(out, table, verb="dropped"):
    ls = lines(out, table)
    assert len(ls) == 1, (table, out)
    m = re.match(r"^%s: (?:%s (.*)|nothing to drop)$" % (re.escape(table), verb), ls[0])
    assert m, ls[0]
    return m.group(1).split(", ") if m.group(1) else []


# offsets from now: all at or before now are older than 30 days at now + 31 days
OLD = [-45 * DAY, -40 * DAY, -31 * DAY, -5 * DAY, -HOUR, -datetime.timedelta(seconds=1)]
# ... and these are newer than 30 days then (29 days 23 hours and less)
NEW = [DAY + HOUR, 2 * DAY, 3 * DAY + 5 * HOUR, 4 * DAY]


def test_dry_run_then_run_31_days_ahead(rstack, db):
    now = datetime.datetime.now(UTC)
    seed(db, now, OLD + NEW)
    acc = seed_accounts(db, now)
    at = rfc3339(now + 31 * DAY)
    cutoff = now + DAY  # now + 31 days - [logs] retention_days (30)
    before = db.state()
    parts = {t: db.partitions(t) for t in PARTITIONED}

    dry = db.ctl("retention", "--now", at, "--dry-run")
    assert dry.returncode == 0, (dry.stdout, dry.stderr)
    assert "dry run" in dry.stdout.splitlines()[0], dry.stdout
    assert db.state() == before, "--dry-run changed something"

    r = db.ctl("retention", "--now", at)
    assert r.returncode == 0, (r.stdout, r.stderr)
    for table in PARTITIONED:
        want = sorted(p for p, upper in parts[table].items() if upper <= cutoff)
        assert want, (table, parts[table])
        got = dropped(r.stdout, table)
        assert sorted(got) == want, (table, got, want)
        assert sorted(dropped(dry.stdout, table, "would drop")) == want, dry.stdout
        check_left(db, table, parts[table], want, now)
    m = markers(db)
    new = sorted("o%d" % (len(OLD) + i) for i in range(len(NEW)))
    assert m["logs"] == new, m
    assert m["audit_events"] == new, m
    assert m["telemetry"] == len(NEW), m

    keep, gone = acc["sessions"]
    left = sorted(s for (s,) in db.q("SELECT id::text FROM sessions"))
    assert left == sorted(keep), (left, keep, gone)
    assert lines(r.stdout, "sessions") == ["sessions: deleted %d expired" % len(gone)], r.stdout
    assert lines(dry.stdout, "sessions") == ["sessions: would delete %d expired" % len(gone)]
    fails = sorted(a for (a,) in db.q("SELECT at FROM login_failures"))
    assert fails == sorted(acc["failures"]["keep"]), fails
    assert lines(r.stdout, "login_failures") == [
        "login_failures: deleted %d older than 1 hour" % len(acc["failures"]["gone"])], r.stdout
    seen = [a for (a,) in db.q("SELECT seen_at FROM telemetry_seen")]
    assert seen == [acc["seen"]["keep"]], seen
    assert r.stdout.splitlines()[-1].startswith("retention: "), r.stdout

    # a second run finds nothing more
    again = db.ctl("retention", "--now", at)
    assert again.returncode == 0, again.stderr
    for table in PARTITIONED:
        assert dropped(again.stdout, table) == [], again.stdout
    assert lines(again.stdout, "sessions") == ["sessions: deleted 0 expired"]


def test_cutoff_on_midnight_is_exact(rstack, db):
    """--now chosen so that now - 30 days is a UTC midnight M: every row
    stamped before M goes, every row stamped at M or later stays."""
    now = datetime.datetime.now(UTC)
    m = datetime.datetime.combine((now + 2 * DAY).date(), datetime.time(), UTC)
    us = datetime.timedelta(microseconds=1)
    offsets = [m - now - us, m - now - HOUR, m - now, m - now + us, m - now + 5 * HOUR]
    seed(db, now, offsets)
    parts = {t: db.partitions(t) for t in PARTITIONED}
    r = db.ctl("retention", "--now", rfc3339(m + 30 * DAY))
    assert r.returncode == 0, (r.stdout, r.stderr)
    mk = markers(db)
    assert mk["logs"] == ["o2", "o3", "o4"], mk
    assert mk["audit_events"] == ["o2", "o3", "o4"], mk
    assert mk["telemetry"] == 3, mk
    for table in PARTITIONED:
        want = [p for p, upper in parts[table].items() if upper <= m]
        assert sorted(dropped(r.stdout, table)) == sorted(want), r.stdout
        check_left(db, table, parts[table], want, now)


def test_everything_works_after_retention(rstack, db):
    now = datetime.datetime.now(UTC)
    seed(db, now, OLD)
    r = db.ctl("retention", "--now", rfc3339(now + 31 * DAY))
    assert r.returncode == 0, (r.stdout, r.stderr)
    today = "logs_p" + now.strftime("%Y%m%d")
    assert today not in db.partitions("logs"), "today's log partition was not dropped"

    # a log record, an audit event and a telemetry event for today are stored
    marker = "it-after-retention-%s" % uuid.uuid4().hex[:8]
    sembark.push_frames(sembark.endpoint(rstack, "log"),
                        [sembark.ipc_frame("log.record", sembark.log_record_body(marker))])
    team = new_id()
    push_audit(rstack, [audit_body("login", team, (new_id(), "after@example.com"))])
    (at,), = sembark.wait_until(lambda: db.q("SELECT at FROM logs WHERE message = %s", (marker,)),
                                10, interval=0.1, what="a log record stored after retention")
    (at2,), = sembark.wait_until(lambda: db.q("SELECT at FROM audit_events WHERE team_id = %s",
                                              (team,)),
                                 10, interval=0.1, what="an audit event stored after retention")
    # (its day's partition was made again: today's, unless midnight passed meanwhile)
    assert "logs_p" + at.astimezone(UTC).strftime("%Y%m%d") in db.partitions("logs")
    assert "audit_events_p" + at2.astimezone(UTC).strftime("%Y%m%d") in db.partitions("audit_events")

    import telemetry_client as tc
    user = new_id()
    with tc.Telemetryd(rstack) as t:
        st, body = t.ingest(tc.batch([tc.event()]), user, team)
    assert st == 202 and body["accepted"] == 1, (st, body)
    assert db.q("SELECT count(*) FROM telemetry_events WHERE user_id = %s", (user,))[0][0] == 1

    st, body, _ = rstack.health()
    assert st == 200, body
    if accounts_available(rstack):
        b = Browser(rstack)
        b.signup(email=new_email("it-after-retention"))
        assert b.get("/api/me").status_code == 200
        b.logout(expect=None)
        assert b.login(expect=None).status_code == 200
        assert read_audit(b).status_code == 200


def test_logd_drops_old_partitions_at_start(make_stack, db, sec):
    s = make_stack(config={"database": {"name": db.name}, "logs": {"retention_days": "30"}})
    now = datetime.datetime.now(UTC)
    seed(db, now, [-40 * DAY, -32 * DAY, -29 * DAY, -HOUR])
    old = [p for p, upper in db.partitions("logs").items() if upper <= now - 30 * DAY]
    old_audit = [p for p, upper in db.partitions("audit_events").items() if upper <= now - 30 * DAY]
    assert len(old) >= 2 and sorted(old) == sorted(p.replace("audit_events", "logs") for p in old_audit)
    s.restart("logd")

    def gone():
        return not (set(old) & set(db.partitions("logs"))) and \
            not (set(old_audit) & set(db.partitions("audit_events")))
    sembark.wait_until(gone, 10, interval=0.2, what="logd's own retention at start")
    mk = markers(db)
    assert mk["logs"] == ["o2", "o3"] and mk["audit_events"] == ["o2", "o3"], mk
    # telemetry is telemetryd's: logd leaves it alone
    assert mk["telemetry"] == 4, mk

    def logged():
        return [f for (f,) in db.q("SELECT fields FROM logs WHERE service = 'logd' AND "
                                  "message = 'retention dropped partitions'")]
    recs = sembark.wait_until(logged, 10, interval=0.2, what="logd's 'retention dropped partitions' record")
    by_table = {f["table"]: f["partitions"].split(", ") for f in recs}
    assert sorted(by_table["logs"]) == sorted(old), recs
    assert sorted(by_table["audit_events"]) == sorted(old_audit), recs


def test_logd_role_cannot_drop_recent(db, sec):
    logd = dict(user=sembark.ROLES["logd"], password=sec.passwords["logd"])
    for fn in ("sembark_drop_log_partitions", "sembark_drop_audit_partitions"):
        with pytest.raises(Exception, match="within the last day"):
            db.q("SELECT %s(now())" % fn, **logd)
        assert db.q("SELECT count(*) FROM %s(now() - interval '30 days')" % fn, **logd) == [(0,)]
    # and it may not DELETE rows or run DDL itself
    for sql in ("DELETE FROM logs", "DELETE FROM audit_events", "DROP TABLE audit_events",
                "SELECT sembark_drop_day_partitions('logs', now() - interval '30 days')",
                "SELECT sembark_drop_telemetry_partitions(now() - interval '30 days')"):
        with pytest.raises(Exception, match="permission denied|must be owner"):
            db.q(sql, **logd)


@pytest.mark.parametrize("args,needle", [
    (("--now", "yesterday"), "RFC 3339"),
    (("--now", "2026-02-30T00:00:00Z"), "RFC 3339"),
    (("--now", "2026-12-30T25:00:00Z"), "RFC 3339"),
    (("--now", "2026-12-30T05:00:00"), "RFC 3339"),
    (("--now",), ""),
    (("--bogus",), ""),
    (("extra",), "unexpected argument"),
])
def test_bad_arguments(migrated, args, needle):
    r = sembark.run_ctl(migrated, "retention", *args)
    assert r.returncode == 2, (args, r.returncode, r.stdout, r.stderr)
    assert needle in r.stderr, r.stderr
    assert r.stdout == "", r.stdout
