"""test_telemetry_partitions.py - telemetry's daily partitions, retention and
database privileges (migrations/0004_telemetry.sql, services/telemetryd/partitions.c):

  - at start telemetryd creates the partitions of every day an event may fall
    on (7 days back, one day ahead)
  - a partition missing when an event arrives is created then
  - retention drops whole partitions older than [telemetry] retention_days
    (DROP TABLE, the rows are gone), at start; a shorter retention also
    shortens the accepted window
  - sembark_telemetryd may INSERT/SELECT its tables and nothing more; it may
    not drop the last day through the retention function
"""

import datetime

import psycopg2
import pytest

import sembark
import telemetry_client as tc
from telemetry_client import batch, event

pytestmark = pytest.mark.skipif(not sembark.have_zmq(), reason="python3-zmq/python3-msgpack not installed")


def day(offset):
    return datetime.datetime.now(datetime.timezone.utc).date() + datetime.timedelta(days=offset)


def part(d):
    return "telemetry_events_p" + d.strftime("%Y%m%d")


def partitions(pg):
    rows = pg.query("SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                    "WHERE i.inhparent = 'telemetry_events'::regclass")
    return {r[0] for r in rows}


def test_partitions_ahead_at_start(stack, pg):
    have = partitions(pg)
    for off in range(-7, 2):
        assert part(day(off)) in have, (part(day(off)), sorted(have))


def test_missing_partition_created_on_arrival(stack, pg):
    five = day(-5)
    pg.query("DROP TABLE IF EXISTS %s" % part(five))
    assert part(five) not in partitions(pg)
    user, team = tc.new_ids()
    e = event("crash", occurred_at=five.strftime("%Y-%m-%dT12:00:00Z"))
    with tc.Telemetryd(stack) as t:
        st, j = t.ingest(batch([e, event("crash")]), user, team)
    assert (st, j) == (202, {"accepted": 2, "duplicates": 0, "rejected": []})
    assert part(five) in partitions(pg)
    assert pg.query("SELECT count(*) FROM %s WHERE id = %%s" % part(five), (e["id"],))[0][0] == 1
    assert "telemetry partitions created" in stack.stderr("telemetryd")


def test_retention_drops_old_partitions(make_stack, pg):
    old = day(-40)
    pg.query("SELECT sembark_ensure_telemetry_partitions(%s::date, 2)", (old,))
    pg.query("INSERT INTO telemetry_events (id, team_id, user_id, type, occurred_at) "
             "VALUES (gen_random_uuid(), gen_random_uuid(), gen_random_uuid(), 'sign_in', %s)",
             (datetime.datetime.combine(old, datetime.time(12), datetime.timezone.utc),))
    assert {part(old), part(old + datetime.timedelta(days=1))} <= partitions(pg)
    stack = make_stack()  # default retention 30 days: upkeep at start drops them
    sembark.wait_until(lambda: part(old) not in partitions(pg), 5, what="old partition dropped")
    assert part(old + datetime.timedelta(days=1)) not in partitions(pg)
    assert pg.query("SELECT count(*) FROM telemetry_events WHERE occurred_at < now() - interval '35 days'")[0][0] == 0
    err = stack.stderr("telemetryd")
    assert "telemetry partition dropped" in err and part(old) in err
    assert part(day(-7)) in partitions(pg)


def test_short_retention(make_stack, pg):
    stack = make_stack(env={"SEMBARK_TELEMETRY_RETENTION_DAYS": "2"})
    sembark.wait_until(lambda: part(day(-4)) not in partitions(pg), 5, what="partitions older than 2 days dropped")
    assert part(day(-2)) in partitions(pg) and part(day(-1)) in partitions(pg)
    user, team = tc.new_ids()
    with tc.Telemetryd(stack) as t:
        st, j = t.ingest(batch([event("crash", occurred_at=tc.now_minus(days=2, minutes=1)),
                                event("crash", occurred_at=tc.now_minus(days=1, hours=23))]), user, team)
    assert st == 202 and j["accepted"] == 1 and j["rejected"][0]["index"] == 0, j
    assert "2 days" in j["rejected"][0]["error"]


def as_role(pg, sec, name, sql, params=None):
    return pg.query(sql, params, user=sembark.ROLES[name], password=sec.passwords[name])


def test_telemetryd_role_privileges(stack, pg, sec):
    ok = as_role(pg, sec, "telemetryd", "SELECT count(*) FROM telemetry_events")
    assert ok[0][0] >= 0
    as_role(pg, sec, "telemetryd", "SELECT count(*) FROM telemetry_seen")
    refused = [
        "UPDATE telemetry_events SET type = 'crash' WHERE false",
        "DELETE FROM telemetry_events WHERE false",
        "TRUNCATE telemetry_events",
        "UPDATE telemetry_seen SET seen_at = now() WHERE false",
        "DROP TABLE %s" % part(day(0)),
        "CREATE TABLE it_telemetry_x (a int)",
        "ALTER TABLE telemetry_events ADD COLUMN ip inet",
        "SELECT * FROM sembark_drop_telemetry_partitions(now())",
        "SELECT * FROM sembark_drop_telemetry_partitions(now() - interval '23 hours')",
        "SELECT count(*) FROM logs",
    ]
    for sql in refused:
        with pytest.raises(psycopg2.Error):
            as_role(pg, sec, "telemetryd", sql)
    assert part(day(0)) in partitions(pg)
    # the functions belong to telemetryd (and the owner) only
    for other in ("authd", "logd"):
        for sql in ("SELECT sembark_ensure_telemetry_partitions(current_date, 1)",
                    "SELECT * FROM sembark_drop_telemetry_partitions(now() - interval '400 days')",
                    "SELECT count(*) FROM telemetry_events"):
            with pytest.raises(psycopg2.Error):
                as_role(pg, sec, other, sql)


def test_drop_function_as_owner(pg):
    old = day(-100)
    pg.query("SELECT sembark_ensure_telemetry_partitions(%s::date, 3)", (old,))
    cutoff = datetime.datetime.combine(old + datetime.timedelta(days=2), datetime.time(0),
                                       datetime.timezone.utc)
    names = [r[0] for r in pg.query("SELECT * FROM sembark_drop_telemetry_partitions(%s)", (cutoff,))]
    assert part(old) in names and part(old + datetime.timedelta(days=1)) in names
    assert part(old + datetime.timedelta(days=2)) not in names  # not entirely older than the cutoff
    assert part(old + datetime.timedelta(days=2)) in partitions(pg)
    names = [r[0] for r in pg.query("SELECT * FROM sembark_drop_telemetry_partitions(%s)",
                                    (cutoff + datetime.timedelta(days=1),))]
    assert names == [part(old + datetime.timedelta(days=2))]
