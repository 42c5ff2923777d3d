#!/usr/bin/env bash
# pg.sh - the private development PostgreSQL of `make run` and the tests.
#
#   bash scripts/pg.sh init     secrets + initdb (no server)
#   bash scripts/pg.sh start    init if needed, start, create database sembark
#   bash scripts/pg.sh stop     stop (fast mode: sessions are cut, no data lost)
#   bash scripts/pg.sh status   exit 0 when running, 3 when not
#
# Everything lives under var/ of the repository (SEMBARK_VAR overrides):
#   var/pg/                    the cluster (owned by `postgres` when run as root)
#   var/run/pg/.s.PGSQL.5432   its only listener: a Unix socket, no TCP at all
#   var/log/postgresql.log     its log
#   var/secrets/               0700: db-owner-password, db-{authd,telemetryd,logd,maild}-password,
#                              csrf-key, totp-key; 0600 each, made once from /dev/urandom
# The bootstrap superuser is sembark_owner, with the generated password and
# scram-sha-256 for every local connection. PostgreSQL refuses to run as
# root: as root, initdb and pg_ctl run as the `postgres` system user.
# Idempotent: starting a running server only makes sure the database exists.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

say() { printf 'pg: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

# shellcheck source=scripts/var.sh
. "$ROOT/scripts/var.sh"
VAR=$(sembark_var_dir)
PGDATA_DIR=$VAR/pg
SOCK_DIR=$VAR/run/pg
LOG_FILE=$VAR/log/postgresql.log
SECRETS=$VAR/secrets
PG_PORT=5432
OWNER=sembark_owner
DB_NAME=${SEMBARK_DATABASE_NAME:-sembark}

find_bindir() {
	local d
	d=$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
	if [ ! -x "$d/pg_ctl" ]; then
		die "no PostgreSQL server found (install the postgresql package: make deps)"
	fi
	printf '%s' "$d"
}
PGBIN=$(find_bindir)

# as_pg CMD... - run as the cluster's owner: `postgres` when we are root
if [ "$(id -u)" -eq 0 ]; then
	id postgres >/dev/null 2>&1 || die "running as root needs the postgres system user"
	as_pg() { (cd / && runuser -u postgres -- "$@"); } # from /: our cwd may be private
	chown_pg() { chown postgres:postgres "$@"; }
else
	as_pg() { "$@"; }
	chown_pg() { :; }
fi

# a Unix socket path must fit in sun_path (107 bytes)
[ ${#SOCK_DIR} -le 90 ] || die "$SOCK_DIR is too long for a Unix socket path; set SEMBARK_VAR to a shorter directory"

new_secret() { # new_secret NAME - 32 random bytes as hex, made once
	local f=$SECRETS/$1
	[ -s "$f" ] && return 0
	(umask 077; head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$f.tmp" && mv "$f.tmp" "$f")
	chmod 0600 "$f"
}

init_dirs() {
	chmod 0755 "$VAR"
	mkdir -p "$VAR/run" "$VAR/log" "$SOCK_DIR" "$SECRETS"
	chmod 0755 "$VAR/run" "$VAR/log"
	chmod 0700 "$SECRETS"
	chmod 0755 "$SOCK_DIR"
	chown_pg "$SOCK_DIR"
	touch "$LOG_FILE"
	chmod 0640 "$LOG_FILE"
	chown_pg "$LOG_FILE"
	local s
	for s in db-owner-password db-authd-password db-telemetryd-password db-logd-password \
		db-maild-password csrf-key totp-key; do
		new_secret "$s"
	done
	if [ "$(id -u)" -eq 0 ] && ! as_pg test -x "$VAR"; then
		die "the postgres user cannot reach $VAR: make its parent directories traversable (chmod o+x) or set SEMBARK_VAR"
	fi
}

# Settings that name paths are written at every start, so var/ may move.
write_settings() {
	local q=${SOCK_DIR//\'/\'\'}
	as_pg tee "$PGDATA_DIR/sembark.conf" >/dev/null <<EOF
# written by scripts/pg.sh at every start; edit pg.sh instead
listen_addresses = ''
port = $PG_PORT
unix_socket_directories = '$q'
unix_socket_permissions = 0770
password_encryption = scram-sha-256
timezone = 'UTC'
log_timezone = 'UTC'
logging_collector = off
log_line_prefix = '%m [%p] %q%u@%d '
EOF
}

do_init() {
	init_dirs
	[ -f "$PGDATA_DIR/PG_VERSION" ] && return 0
	say "creating a new cluster in $PGDATA_DIR"
	rm -rf "$PGDATA_DIR"
	mkdir -m 0700 "$PGDATA_DIR"
	chown_pg "$PGDATA_DIR"
	local pwfile
	pwfile=$(mktemp "$VAR/run/pwfile.XXXXXX")
	# shellcheck disable=SC2064
	trap "rm -f '$pwfile'" EXIT
	cat "$SECRETS/db-owner-password" >"$pwfile"
	chown_pg "$pwfile"
	if ! as_pg "$PGBIN/initdb" -D "$PGDATA_DIR" -U "$OWNER" --pwfile="$pwfile" \
		--auth-local=scram-sha-256 --auth-host=reject -E UTF8 --locale=C.UTF-8 \
		--no-instructions >"$VAR/log/initdb.log" 2>&1; then
		cat "$VAR/log/initdb.log" >&2
		rm -f "$pwfile"
		rm -rf "$PGDATA_DIR"
		die "initdb failed"
	fi
	rm -f "$pwfile"
	trap - EXIT
	printf "\ninclude_if_exists = 'sembark.conf'\n" | as_pg tee -a "$PGDATA_DIR/postgresql.conf" >/dev/null
}

is_running() {
	[ -f "$PGDATA_DIR/PG_VERSION" ] && as_pg "$PGBIN/pg_ctl" status -D "$PGDATA_DIR" >/dev/null 2>&1
}

# psql as the owner, password from a temporary passfile (never argv/env)
owner_psql() {
	local pass rc=0
	pass=$(mktemp "$VAR/run/pgpass.XXXXXX")
	printf '*:*:*:%s:%s\n' "$OWNER" "$(cat "$SECRETS/db-owner-password")" >"$pass"
	PGPASSFILE=$pass "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$SOCK_DIR" -p "$PG_PORT" \
		-U "$OWNER" "$@" || rc=$?
	rm -f "$pass"
	return $rc
}

ensure_database() {
	local have
	case $DB_NAME in '' | *[!a-z0-9_]*) die "bad database name '$DB_NAME' (a-z 0-9 _ only)" ;; esac
	have=$(owner_psql -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$DB_NAME'")
	[ "$have" = 1 ] && return 0
	owner_psql -d postgres -c "CREATE DATABASE $DB_NAME OWNER $OWNER ENCODING 'UTF8' TEMPLATE template0"
	say "created database $DB_NAME"
}

wait_ready() {
	local _
	for _ in $(seq 1 100); do
		"$PGBIN/pg_isready" -q -h "$SOCK_DIR" -p "$PG_PORT" && return 0
		sleep 0.1
	done
	die "PostgreSQL did not become ready; see $LOG_FILE"
}

do_start() {
	do_init
	if is_running; then
		say "already running ($SOCK_DIR)"
	else
		write_settings
		as_pg "$PGBIN/pg_ctl" start -D "$PGDATA_DIR" -l "$LOG_FILE" -w -t 30 -s ||
			{ tail -n 20 "$LOG_FILE" >&2; die "PostgreSQL did not start; see $LOG_FILE"; }
		say "started ($SOCK_DIR)"
	fi
	wait_ready
	ensure_database
}

do_stop() {
	if ! is_running; then
		say "not running"
		return 0
	fi
	as_pg "$PGBIN/pg_ctl" stop -D "$PGDATA_DIR" -m fast -w -t 30 -s
	say "stopped"
}

do_status() {
	if is_running; then
		say "running ($SOCK_DIR)"
		return 0
	fi
	say "not running"
	return 3
}

case ${1:-} in
init) do_init ;;
start) do_start ;;
stop) do_stop ;;
status) do_status ;;
*)
	echo "usage: $0 start|stop|status|init" >&2
	exit 2
	;;
esac
