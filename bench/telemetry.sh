#!/usr/bin/env bash
# telemetry.sh - telemetry ingest benchmark against the stack of `make run`.
#
#   bash bench/telemetry.sh            setup for bench/telemetry.lua (run.sh calls
#                                      it so): signs up a team, gets a Bearer token
#                                      (POST /api/tokens), prints BENCH_TELEMETRY_*=
#   bash bench/telemetry.sh --rates    the whole measurement (run.sh's
#                                      telemetry_rates): events/s through HTTP with
#                                      batches of 100 and 500 (wrk, bench/telemetry.lua,
#                                      every answer a 202 after commit), then the raw
#                                      COPY rate of rows of the same shape into the
#                                      same table as the owner, and the ratio
#
# Environment: BASE_URL (http://127.0.0.1:$PORT), PORT (8080), DURATION (10s),
# CONNECTIONS (32), THREADS (2), COPY_ROWS (200000), PYTHON (/usr/bin/python3),
# SEMBARK_VAR (var/ of this checkout: the owner password and PostgreSQL socket
# that `make run` made). The COPY rows get a team id of their own and are
# deleted again afterwards; the events sent over HTTP stay (a team of their own).
# Sign-up and token requests count against [ingress] client_rate_limit: two
# per run.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PORT=${PORT:-8080}
BASE_URL=${BASE_URL:-http://127.0.0.1:$PORT}
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-32}
THREADS=${THREADS:-2}
COPY_ROWS=${COPY_ROWS:-200000}
PYTHON=${PYTHON:-/usr/bin/python3}
VAR=${SEMBARK_VAR:-$ROOT/var}

die() {
	echo "bench/telemetry: $*" >&2
	exit 1
}

# setup - a new team and its owner's Bearer token, as BENCH_ lines
setup() {
	BASE_URL=$BASE_URL "$PYTHON" - <<'EOF'
import os, sys, uuid, urllib.parse
import requests

base = os.environ["BASE_URL"]
s = requests.Session()
s.trust_env = False
r = s.get(base + "/api/csrf", timeout=10)
if r.status_code != 204:
    sys.exit("GET /api/csrf answered %d %s" % (r.status_code, r.text[:200]))
email = "bench-%s@example.com" % uuid.uuid4().hex[:16]
password = "bench password %s" % uuid.uuid4().hex
r = s.post(base + "/api/teams", timeout=30, json={
    "team_name": "bench telemetry", "name": "Bench", "email": email, "password": password},
    headers={"Origin": base, "X-XSRF-TOKEN": urllib.parse.unquote(s.cookies.get("XSRF-TOKEN", ""))})
if r.status_code != 201:
    sys.exit("POST /api/teams answered %d %s" % (r.status_code, r.text[:200]))
team = r.json()["team"]["id"]
r = requests.post(base + "/api/tokens", timeout=30, proxies={"http": None},
                  json={"email": email, "password": password, "device_name": "bench"})
if r.status_code != 201:
    sys.exit("POST /api/tokens answered %d %s" % (r.status_code, r.text[:200]))
print("BENCH_TELEMETRY_TOKEN=%s" % r.json()["token"])
print("BENCH_TELEMETRY_TEAM=%s" % team)
print("BENCH_TELEMETRY_RUN=%d" % int.from_bytes(os.urandom(4), "big"))
EOF
}

# field LINE KEY - the value of key=value in a BENCH_RESULT line
field() {
	sed -n "s/.* $2=\\([0-9.]*\\).*/\\1/p" <<<"$1"
}

# http_rate BATCH - "events/s p50 p99" through POST /api/telemetry/events
http_rate() {
	local batch=$1 out line rps bad
	out=$(env BENCH_LIB="$ROOT/bench/lib" BENCH_TELEMETRY_TOKEN="$TOKEN" \
		BENCH_TELEMETRY_BATCH="$batch" BENCH_TELEMETRY_RUN="$((RUN + batch))" \
		timeout --signal=INT 700 wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --timeout 10s \
		-s "$ROOT/bench/telemetry.lua" "$BASE_URL" 2>&1) || true
	line=$(grep '^BENCH_RESULT ' <<<"$out" | tail -n1)
	[ -n "$line" ] || die "wrk gave no result for batches of $batch: $out"
	rps=$(field "$line" rps)
	bad=$(($(field "$line" non2xx) + $(field "$line" errors)))
	[ "$bad" -eq 0 ] ||
		echo "note: batches of $batch: $bad answers were not 202 (503: a commit failed or timed out)" >&2
	awk -v r="$rps" -v b="$batch" -v p50="$(field "$line" p50)" -v p99="$(field "$line" p99)" \
		'BEGIN { printf "%.0f %s %s\n", r * b, p50, p99 }'
}

# copy_rate - rows/s of COPY FROM STDIN into telemetry_events as the owner
copy_rate() {
	local pw=$VAR/secrets/db-owner-password sock=$VAR/run/pg
	[ -r "$pw" ] && [ -S "$sock/.s.PGSQL.5432" ] ||
		die "no PostgreSQL of \`make run\` under $VAR (owner password, socket)"
	COPY_ROWS=$COPY_ROWS PGPW_FILE=$pw PGSOCK=$sock "$PYTHON" - <<'EOF'
import io, os, time, uuid, datetime
import psycopg2

n = int(os.environ["COPY_ROWS"])
with open(os.environ["PGPW_FILE"]) as f:
    pw = f.read().strip()
conn = psycopg2.connect(host=os.environ["PGSOCK"], user="sembark_owner", password=pw,
                        dbname="sembark", connect_timeout=5)
conn.autocommit = True
team = str(uuid.uuid4())
user = str(uuid.uuid4())
now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000000Z")
kinds = [("feature_interaction", '{"feature": "bench.f%d"}'), ("network_status", '{"online": true}'),
         ("connectivity", '{"state": "connected"}'), ("error", '{"code": "E%d", "fatal": false}'),
         ("crash", "{}")]
buf = io.StringIO()
for i in range(n):
    t, a = kinds[i % len(kinds)]
    if "%d" in a:
        a = a % (i % 10)
    buf.write("%s\t%s\t%s\t%s\t%s\t2.4.1\tmacOS 14.5\t2560\t1440\t%s\n" % (uuid.uuid4(), team, user, t, now, a))
buf.seek(0)
cur = conn.cursor()
t0 = time.monotonic()
cur.copy_expert("COPY telemetry_events (id, team_id, user_id, type, occurred_at, app_version, "
                "os_version, display_width, display_height, attrs) FROM STDIN", buf)
dt = time.monotonic() - t0
cur.execute("DELETE FROM telemetry_events WHERE team_id = %s", (team,))
print("%.0f" % (n / dt))
EOF
}

# row TITLE "EVENTS P50 P99" COPY - one line of the table
row() {
	local ev p50 p99
	read -r ev p50 p99 <<<"$2"
	awk -v t="$1" -v e="$ev" -v p="$p50" -v q="$p99" -v c="$3" \
		'BEGIN { printf "| %s | %d | %s | %s | %.2f |\n", t, e, p, q, e / c }'
}

rates() {
	local env_lines http100 http500 copy
	env_lines=$(setup) || die "setup failed"
	TOKEN=$(sed -n 's/^BENCH_TELEMETRY_TOKEN=//p' <<<"$env_lines")
	RUN=$(sed -n 's/^BENCH_TELEMETRY_RUN=//p' <<<"$env_lines")
	http100=$(http_rate 100)
	http500=$(http_rate 500)
	copy=$(copy_rate) || die "COPY failed"
	echo "Telemetry ingest: wrk -t$THREADS -c$CONNECTIONS -d$DURATION with a Bearer token, new ids" \
		"only (every answer a 202 after commit); raw COPY of $COPY_ROWS rows as the owner"
	echo
	echo "| path | events/s | p50 ms | p99 ms | of raw COPY |"
	echo "|---|--:|--:|--:|--:|"
	row "POST /api/telemetry/events, batches of 100" "$http100" "$copy"
	row "POST /api/telemetry/events, batches of 500" "$http500" "$copy"
	row "raw COPY FROM STDIN into telemetry_events" "$copy - -" "$copy"
}

case ${1:-} in
--rates) rates ;;
"") setup ;;
*) die "usage: bash bench/telemetry.sh [--rates]" ;;
esac
