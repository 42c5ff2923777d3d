"""test_setup.py - `sembarkctl setup` against the test cluster: where neither the owner
role nor the database exists, it creates both (the role LOGIN CREATEROLE and no superuser,
the database owned by it) and migrates, after which a daemon role logs in with its
password; run again, it creates nothing and the schema is up to date. An admin that cannot
log in stops it before anything is done. Run as root, the admin part logs in by peer as
the OS account of the admin's name (Debian's postgres)."""

import os
import re

import pytest

import sembark


@pytest.fixture
def fresh(pg, sec, tmp_path):
    """An owner role and a database that do not exist yet (dropped after)."""
    target = sembark.setup_target(pg, sec, str(tmp_path), "sembark_setup")
    yield target
    sembark.drop_setup_target(pg, target)


def run_setup(fresh, *args):
    return sembark.run_ctl(fresh["cfg"], "setup", "--admin-user", sembark.OWNER, *args,
                           env=fresh["env"])


def test_setup_creates_owner_and_database_then_migrates(pg, sec, fresh):
    owner, dbname = fresh["owner"], fresh["db"]
    r = run_setup(fresh)
    assert r.returncode == 0, (r.stdout, r.stderr)
    assert "role %s created" % owner in r.stdout, r.stdout
    assert "database %s created, owner %s" % (dbname, owner) in r.stdout, r.stdout
    assert "applying 0001_roles.sql ... ok" in r.stdout, r.stdout

    role = pg.query("SELECT rolsuper, rolcreaterole, rolcanlogin, rolcreatedb FROM pg_roles "
                    "WHERE rolname = %s", (owner,), dbname="postgres")
    assert role == [(False, True, True, False)], role
    dba = pg.query("SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = %s",
                   (dbname,), dbname="postgres")
    assert dba == [(owner,)], dba

    files = [f for f in os.listdir(sembark.MIGRATIONS_DIR) if re.match(r"^\d{4}_.+\.sql$", f)]
    applied = pg.query("SELECT count(*) FROM schema_migrations", user=owner,
                       password=fresh["owner_pw"], dbname=dbname)
    assert applied == [(len(files),)], (applied, files)
    # the daemon roles got their passwords and may connect to the new database
    assert pg.query("SELECT current_user", user=sembark.ROLES["authd"],
                    password=sec.passwords["authd"], dbname=dbname) == [(sembark.ROLES["authd"],)]

    again = run_setup(fresh)
    assert again.returncode == 0, (again.stdout, again.stderr)
    assert "role %s exists, password set" % owner in again.stdout, again.stdout
    assert "database %s exists" % dbname in again.stdout, again.stdout
    assert re.search(r"schema up to date at version \d+", again.stdout), again.stdout
    assert "applying" not in again.stdout, again.stdout


def test_setup_refuses_an_admin_that_cannot_log_in(pg, fresh):
    fresh["env"]["PGPASSFILE"] = os.devnull
    r = run_setup(fresh)
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert "cannot connect to database 'postgres' as %s" % sembark.OWNER in r.stderr, r.stderr
    assert pg.query("SELECT count(*) FROM pg_roles WHERE rolname = %s", (fresh["owner"],),
                    dbname="postgres") == [(0,)]


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root and the postgres OS account")
def test_setup_as_root_logs_in_by_peer_as_the_admin_os_account(pg, fresh):
    """Debian's way: root runs `sembarkctl setup` and the superuser postgres logs in by peer
    (OS user = role). The admin part runs in a child as the OS user postgres; a root process
    would be refused by peer authentication as postgres."""
    hba = os.path.join(pg.data, "pg_hba.conf")
    with open(hba) as f:
        original = f.read()
    pg.query("CREATE ROLE postgres SUPERUSER LOGIN", dbname="postgres")
    try:
        with open(hba, "w") as f:
            f.write("local all postgres peer\n" + original)
        pg._cmd(["pg_ctl", "-D", pg.data, "reload"])
        r = sembark.run_ctl(fresh["cfg"], "setup")  # --admin-user postgres, no password
        assert r.returncode == 0, (r.stdout, r.stderr)
        assert "role %s created" % fresh["owner"] in r.stdout, r.stdout
        assert "database %s created" % fresh["db"] in r.stdout, r.stdout
        assert "applying 0001_roles.sql ... ok" in r.stdout, r.stdout
    finally:
        with open(hba, "w") as f:
            f.write(original)
        pg._cmd(["pg_ctl", "-D", pg.data, "reload"])
        sembark.drop_setup_target(pg, fresh)
        pg.query("DROP ROLE IF EXISTS postgres", dbname="postgres")
