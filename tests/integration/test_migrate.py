"""test_migrate.py - `sembarkctl migrate`: idempotent, recorded in
schema_migrations with each file's SHA-256, safe when two run at once,
refusing a changed applied file, all-or-nothing per file; a foreign SEMBARK_*
variable warned about, a misspelt setting refused; and the roles it
leaves behind can do what their daemon needs and nothing more."""

import hashlib
import os
import re
import secrets
import shutil
import subprocess

import psycopg2
import psycopg2.errors
import pytest

import sembark


def migration_files():
    return sorted(f for f in os.listdir(sembark.MIGRATIONS_DIR) if re.match(r"^\d{4}_.+\.sql$", f))


def ctl_popen(cfg, *args, env=None):
    return subprocess.Popen(sembark.command("ctl", "--config", cfg, *args), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=sembark.clean_env(env), cwd=sembark.REPO_ROOT)


def test_second_migrate_is_up_to_date(migrated):
    r = sembark.run_ctl(migrated, "migrate")
    assert r.returncode == 0, (r.stdout, r.stderr)
    assert re.search(r"up[ -]to[ -]date", r.stdout + r.stderr, re.I), (r.stdout, r.stderr)
    assert "applying" not in r.stdout, r.stdout


def test_status(migrated):
    r = sembark.run_ctl(migrated, "migrate", "--status")
    assert r.returncode == 0, (r.stdout, r.stderr)
    for f in migration_files():
        assert f in r.stdout, (f, r.stdout)


def test_migrate_with_a_foreign_env_variable(migrated):
    """A SEMBARK_* variable that names no config section (a client script's
    SEMBARK_URL) does not stop sembarkctl: one warning naming it."""
    r = sembark.run_ctl(migrated, "migrate", env={"SEMBARK_URL": "https://accounts.example.com",
                                                  "SEMBARK_INGRES_LISTEN": "127.0.0.1:1"})
    assert r.returncode == 0, (r.stdout, r.stderr)
    assert re.search(r"up[ -]to[ -]date", r.stdout + r.stderr, re.I), (r.stdout, r.stderr)
    warnings = [l for l in r.stderr.splitlines() if "warning" in l]
    assert len(warnings) == 2, r.stderr
    url = [l for l in warnings if "SEMBARK_URL " in l]
    assert len(url) == 1 and "names no config section" in url[0], r.stderr
    ingres = [l for l in warnings if "SEMBARK_INGRES_LISTEN " in l]
    assert len(ingres) == 1 and "did you mean SEMBARK_INGRESS_LISTEN?" in ingres[0], r.stderr


def test_migrate_refuses_a_misspelt_setting(migrated):
    """A variable in a known section that is no key of it stops sembarkctl,
    naming the nearest key."""
    r = sembark.run_ctl(migrated, "migrate", env={"SEMBARK_AUTH_SESION_LIFETIME": "60"})
    assert r.returncode != 0, (r.stdout, r.stderr)
    assert "unknown setting SEMBARK_AUTH_SESION_LIFETIME: did you mean " \
           "SEMBARK_AUTH_SESSION_LIFETIME?" in r.stderr, r.stderr
    assert "applying" not in r.stdout, r.stdout


def test_schema_migrations_rows(pg, migrated):
    rows = pg.query("SELECT version, name, checksum FROM schema_migrations ORDER BY version")
    files = migration_files()
    assert [r[0] for r in rows] == [int(f[:4]) for f in files], (rows, files)
    for (version, name, checksum), f in zip(rows, files):
        assert name in (f, f[5:-4]), (name, f)
        with open(os.path.join(sembark.MIGRATIONS_DIR, f), "rb") as fh:
            want = hashlib.sha256(fh.read()).hexdigest()
        assert checksum.lower() == want, (f, checksum, want)


# ---- what each role may do ----------------------------------------------------------------

def as_role(pg, sec, daemon, sql, params=None):
    conn = pg.connect(user=sembark.ROLES[daemon], password=sec.passwords[daemon])
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchall() if cur.description else None
    finally:
        conn.close()


DENIED = [
    ("logd", "SELECT * FROM schema_migrations"),
    ("logd", "CREATE TABLE it_nope (a int)"),
    ("logd", "CREATE TEMP TABLE it_nope (a int)"),
    ("logd", "DELETE FROM logs"),
    ("logd", "UPDATE logs SET message = 'x'"),
    ("logd", "TRUNCATE logs"),
    ("logd", "ALTER TABLE logs ADD COLUMN ip text"),
    ("logd", "SELECT sembark_set_role_password('sembark_logd', 'x')"),
    ("authd", "SELECT * FROM logs"),
    ("authd", "INSERT INTO logs (at, service, level, message) VALUES (now(), 'x', 'info', 'x')"),
    ("authd", "SELECT * FROM schema_migrations"),
    ("authd", "CREATE TABLE it_nope (a int)"),
    ("authd", "SELECT sembark_ensure_log_partitions(current_date, 1)"),
    ("authd", "SELECT sembark_set_role_password('sembark_authd', 'x')"),
    ("telemetryd", "SELECT * FROM logs"),
    ("telemetryd", "SELECT * FROM schema_migrations"),
    ("telemetryd", "CREATE TABLE it_nope (a int)"),
    ("telemetryd", "SELECT sembark_ensure_log_partitions(current_date, 1)"),
]


@pytest.mark.parametrize("daemon,sql", DENIED, ids=["%s: %s" % (d, s[:40]) for d, s in DENIED])
def test_role_denied(pg, sec, migrated, daemon, sql):
    with pytest.raises(psycopg2.errors.InsufficientPrivilege):
        as_role(pg, sec, daemon, sql)


def test_logd_role_allowed(pg, sec, migrated):
    as_role(pg, sec, "logd", "SELECT count(*) FROM logs")
    as_role(pg, sec, "logd", "SELECT sembark_ensure_log_partitions(current_date, 2)")
    as_role(pg, sec, "logd", "INSERT INTO logs (at, service, level, message, fields) "
            "VALUES (now(), 'it', 'info', 'it-migrate-insert', '{}')")
    n = pg.query("SELECT count(*) FROM logs WHERE message = 'it-migrate-insert'")[0][0]
    assert n >= 1


@pytest.mark.parametrize("daemon", sorted(sembark.ROLES))
def test_role_is_not_privileged(pg, migrated, daemon):
    r = pg.query("SELECT rolsuper, rolcreatedb, rolcreaterole, rolreplication, rolbypassrls, rolcanlogin "
                 "FROM pg_roles WHERE rolname = %s", (sembark.ROLES[daemon],))
    assert r == [(False, False, False, False, False, True)], r


@pytest.mark.parametrize("daemon", sorted(sembark.ROLES))
def test_role_wrong_password_refused(pg, migrated, daemon):
    with pytest.raises(psycopg2.OperationalError):
        pg.connect(user=sembark.ROLES[daemon], password="not-" + secrets.token_hex(8)).close()


# ---- a fresh database: concurrency, changes, failures -------------------------------------------

@pytest.fixture
def fresh(pg, sec, base_dir, migrated):
    """A second, empty database in the session cluster and a config naming it."""
    name = "sembark_it_%s" % secrets.token_hex(4)
    pg.query("CREATE DATABASE %s OWNER %s" % (name, sembark.OWNER), dbname="postgres")
    d = os.path.join(base_dir, name)
    os.makedirs(d)
    cfg = os.path.join(d, "sembark.conf")
    with open(cfg, "w") as f:
        f.write(sembark.config_text(pg, sec, 1, os.path.join(d, "run"), {"database": {"name": name}}))
    yield name, cfg, d
    pg.query("DROP DATABASE IF EXISTS %s WITH (FORCE)" % name, dbname="postgres")


def test_concurrent_migrate(pg, fresh):
    name, cfg, _ = fresh
    procs = [ctl_popen(cfg, "migrate") for _ in range(2)]
    outs = [p.communicate(timeout=60 * sembark.SLOW) for p in procs]
    for p, (out, err) in zip(procs, outs):
        assert p.returncode == 0, (p.returncode, out, err)
    files = migration_files()
    applied = [l for out, _ in outs for l in out.splitlines() if l.startswith("applying")]
    assert len(applied) == len(files), "files applied %d times in all: %r" % (len(applied), applied)
    rows = pg.query("SELECT version FROM schema_migrations ORDER BY version", dbname=name)
    assert [r[0] for r in rows] == [int(f[:4]) for f in files], rows


def copy_migrations(d, sub):
    dst = os.path.join(d, sub)
    shutil.rmtree(dst, ignore_errors=True)
    shutil.copytree(sembark.MIGRATIONS_DIR, dst)
    return dst


def test_changed_applied_file_refused(pg, fresh):
    name, cfg, d = fresh
    r = sembark.run_ctl(cfg, "migrate")
    assert r.returncode == 0, (r.stdout, r.stderr)
    mig = copy_migrations(d, "changed")
    victim = migration_files()[0]
    with open(os.path.join(mig, victim), "a") as f:
        f.write("\n-- an edit after the fact\n")
    r = sembark.run_ctl(cfg, "migrate", "--migrations", mig)
    assert r.returncode != 0, (r.stdout, r.stderr)
    assert victim in r.stdout + r.stderr, (r.stdout, r.stderr)


def test_changed_file_refused_via_env_dir(pg, fresh):
    """SEMBARK_MIGRATIONS_DIR names the directory like --migrations does."""
    name, cfg, d = fresh
    r = sembark.run_ctl(cfg, "migrate")
    assert r.returncode == 0, (r.stdout, r.stderr)
    mig = copy_migrations(d, "changed-env")
    victim = migration_files()[-1]
    with open(os.path.join(mig, victim), "a") as f:
        f.write("\n-- an edit after the fact\n")
    r = sembark.run_ctl(cfg, "migrate", env={"SEMBARK_MIGRATIONS_DIR": mig})
    assert r.returncode != 0, (r.stdout, r.stderr)
    assert victim in r.stdout + r.stderr, (r.stdout, r.stderr)


def test_new_file_applied_then_up_to_date(pg, fresh):
    name, cfg, d = fresh
    mig = copy_migrations(d, "extra")
    with open(os.path.join(mig, "9000_it_extra.sql"), "w") as f:
        f.write("CREATE TABLE it_extra (a int);\n")
    r = sembark.run_ctl(cfg, "migrate", "--migrations", mig)
    assert r.returncode == 0, (r.stdout, r.stderr)
    assert "9000_it_extra.sql" in r.stdout, r.stdout
    assert pg.query("SELECT to_regclass('public.it_extra') IS NOT NULL", dbname=name) == [(True,)]
    r = sembark.run_ctl(cfg, "migrate", "--migrations", mig)
    assert r.returncode == 0 and re.search(r"up[ -]to[ -]date", r.stdout, re.I), (r.stdout, r.stderr)


def test_failing_file_rolled_back(pg, fresh):
    name, cfg, d = fresh
    mig = copy_migrations(d, "broken")
    with open(os.path.join(mig, "9100_it_broken.sql"), "w") as f:
        f.write("CREATE TABLE it_half (a int);\nSELECT no_such_function();\n")
    r = sembark.run_ctl(cfg, "migrate", "--migrations", mig)
    assert r.returncode != 0, (r.stdout, r.stderr)
    assert "9100_it_broken.sql" in r.stdout + r.stderr, (r.stdout, r.stderr)
    assert pg.query("SELECT to_regclass('public.it_half') IS NULL", dbname=name) == [(True,)], \
        "half of a failed migration was left applied"
    assert pg.query("SELECT count(*) FROM schema_migrations WHERE version = 9100", dbname=name) == [(0,)]


def test_wrong_owner_password_fails(pg, sec, base_dir, migrated):
    d = os.path.join(base_dir, "badowner")
    os.makedirs(d, exist_ok=True)
    pw = os.path.join(d, "owner-pw")
    fd = os.open(pw, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write("wrong-" + secrets.token_hex(8) + "\n")
    cfg = os.path.join(d, "sembark.conf")
    with open(cfg, "w") as f:
        f.write(sembark.config_text(pg, sec, 1, os.path.join(d, "run"),
                                    {"database": {"owner_password_file": pw}}))
    r = sembark.run_ctl(cfg, "migrate", timeout=30)
    assert r.returncode != 0, (r.stdout, r.stderr)
    assert sec.passwords["owner"] not in r.stdout + r.stderr


def test_world_readable_secret_refused(pg, sec, base_dir, migrated):
    d = os.path.join(base_dir, "loosepw")
    os.makedirs(d, exist_ok=True)
    pw = os.path.join(d, "owner-pw")
    with open(pw, "w") as f:
        f.write(sec.passwords["owner"] + "\n")
    os.chmod(pw, 0o644)
    cfg = os.path.join(d, "sembark.conf")
    with open(cfg, "w") as f:
        f.write(sembark.config_text(pg, sec, 1, os.path.join(d, "run"),
                                    {"database": {"owner_password_file": pw}}))
    r = sembark.run_ctl(cfg, "migrate", timeout=30)
    assert r.returncode != 0, "a mode-0644 password file was accepted: %r" % (r.stdout,)
    assert sec.passwords["owner"] not in r.stdout + r.stderr
