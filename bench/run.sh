#!/usr/bin/env bash
# run.sh - sembark's benchmarks (`make bench`): wrk against the stack that
# `make run` serves on 127.0.0.1:$PORT, loopback only, bounded in time.
#
# Each benchmark is one file, bench/<name>.lua: a wrk script that sets the
# request (wrk.method, wrk.path, wrk.headers, wrk.body, or request()), has
# a "-- title: ..." line naming the row, and loads bench/lib/report.lua for
# the shared done() that prints the numbers. A benchmark that needs state
# first (a session cookie, a CSRF token) may add bench/<name>.sh: it runs
# before wrk with BASE_URL set, and every BENCH_<NAME>=value line it prints
# is put in wrk's environment, where the Lua reads it with os.getenv().
#
# Ceilings, measured in the same run with the same wrk settings: every HTTP
# row beside a bare libevent evhttp server answering "hello"
# (bench/ceiling/hello.c, one thread like ingressd), the login row beside a
# bcrypt probe (bench/ceiling/bcrypt_probe.c: hashes/s at the stack's
# bcrypt_cost on its hash_threads); a benchmark names its ceiling with a
# "-- ceiling: hello|bcrypt" line. Also the four daemons' RSS, idle, before
# the load.
#
# When nothing answers on the port, run.sh starts the stack itself (`make
# run` with the per-client rate limit off, max_connections and the
# per-address connection cap raised to 16384 for wrk and the held
# connections, its output in var/bench-stack.log) and stops it at the end; a stack already running is
# used as it is.
#
# Environment: PORT (8080), DURATION per benchmark (10s; at most 600s),
# CONNECTIONS (32), THREADS (2), BENCH (names to run, default all, e.g.
# BENCH="healthz"), HELLO_PORT (PORT + 11), FLOOD_CONNECTIONS (40, the login
# flood), HOLD_SLOW and HOLD_IDLE (200 and 5000: the connections held by
# bench/hold_conns.py during the "held connections" row, run with healthz).
# Prints a markdown table the README can take. Exits 1 when the stack is
# not answering or a benchmark could not run.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH_DIR=$ROOT/bench
HOST=127.0.0.1
PORT=${PORT:-8080}
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-32}
THREADS=${THREADS:-2}
BENCH=${BENCH:-}
BASE_URL=http://$HOST:$PORT
DURATION_MAX=600
BUILD=${BUILD:-build}
HELLO_PORT=${HELLO_PORT:-$((PORT + 11))}
FLOOD_CONNECTIONS=${FLOOD_CONNECTIONS:-40}
HOLD_SLOW=${HOLD_SLOW:-200}
HOLD_IDLE=${HOLD_IDLE:-5000}
HOLD_P99_TARGET_MS=50
FLOOD_PID=
LOGIN_ENV=()
STACK_PID=
HELLO_RPS=
HELLO_RUNS=()
BCRYPT_RATE=
ROWS=()
notes=()

die() {
	echo "bench: $*" >&2
	exit 1
}

# is_int VALUE MIN MAX
is_int() {
	[[ $1 =~ ^[0-9]{1,7}$ ]] && [ "$1" -ge "$2" ] && [ "$1" -le "$3" ]
}

# seconds DURATION - "10", "10s" or "2m" in seconds, or nothing
seconds() {
	case $1 in
	*m) is_int "${1%m}" 1 100000 && echo $((${1%m} * 60)) ;;
	*s) is_int "${1%s}" 1 100000 && echo "${1%s}" ;;
	*) is_int "$1" 1 100000 && echo "$1" ;;
	esac
}

check_args() {
	local s
	is_int "$PORT" 1 65535 || die "PORT must be a port number, not '$PORT'"
	is_int "$THREADS" 1 64 || die "THREADS must be 1 to 64, not '$THREADS'"
	is_int "$CONNECTIONS" "$THREADS" 10000 ||
		die "CONNECTIONS must be $THREADS (THREADS) to 10000, not '$CONNECTIONS'"
	is_int "$HOLD_SLOW" 0 1000 || die "HOLD_SLOW must be 0 to 1000, not '$HOLD_SLOW'"
	is_int "$HOLD_IDLE" 0 20000 || die "HOLD_IDLE must be 0 to 20000, not '$HOLD_IDLE'"
	s=$(seconds "$DURATION") || true
	[ -n "$s" ] && [ "$s" -le $DURATION_MAX ] ||
		die "DURATION must be like 10s or 2m, at most ${DURATION_MAX}s, not '$DURATION'"
	DURATION_S=$s
	command -v wrk >/dev/null 2>&1 ||
		die "wrk not found; scripts/deps.sh installs it (Debian package wrk)"
}

# healthz_code - the status of GET /healthz, 000 when nothing answers
healthz_code() {
	if command -v curl >/dev/null 2>&1; then
		curl -s -o /dev/null -w '%{http_code}' --max-time 3 "$BASE_URL/healthz" || true
	elif (exec 3<>"/dev/tcp/$HOST/$PORT") 2>/dev/null; then
		echo unknown
	else
		echo 000
	fi
}

# start_stack - `make run` in a session of its own, until /healthz is 200 (180 s at most)
start_stack() {
	local log=$ROOT/var/bench-stack.log
	mkdir -p "$ROOT/var"
	echo "bench: nothing answers on $HOST:$PORT: starting the stack (make run; output in var/bench-stack.log)" >&2
	SEMBARK_INGRESS_CLIENT_RATE_LIMIT=0 SEMBARK_INGRESS_MAX_CONNECTIONS=16384 \
		SEMBARK_INGRESS_MAX_CONNECTIONS_PER_ADDRESS=16384 setsid make --no-print-directory -C "$ROOT" run \
		PORT="$PORT" BUILD="$BUILD" >"$log" 2>&1 </dev/null &
	STACK_PID=$!
	for _ in $(seq 1 180); do
		[ "$(healthz_code)" = 200 ] && return 0
		kill -0 "$STACK_PID" 2>/dev/null || die "make run exited before the stack answered; see var/bench-stack.log"
		sleep 1
	done
	die "the stack did not answer GET /healthz with 200 within 180 s; see var/bench-stack.log"
}

# stop_stack - the stack run.sh started, if any: SIGTERM to make run's session, 30 s, SIGKILL
stop_stack() {
	[ -n "$STACK_PID" ] || return 0
	kill -TERM -- "-$STACK_PID" 2>/dev/null || return 0
	for _ in $(seq 1 60); do
		kill -0 "$STACK_PID" 2>/dev/null || return 0
		sleep 0.5
	done
	kill -KILL -- "-$STACK_PID" 2>/dev/null || true
}

# ensure_stack - a stack on the port (started when there is none), ideally a green /healthz
ensure_stack() {
	local code
	code=$(healthz_code)
	if [ "$code" = 000 ]; then
		start_stack
		code=200
	fi
	if [ "$code" != 200 ] && [ "$code" != unknown ]; then
		notes+=("GET /healthz answered $code before the run (503: a part of the stack is down; 429: the rate limit), so rows may measure error answers")
	fi
}

# conf_value KEY DEFAULT - an integer of the stack's var/sembark.conf
conf_value() {
	local v
	v=$(sed -n "s/^$1[[:space:]]*=[[:space:]]*\([0-9]*\).*/\1/p" "$ROOT/var/sembark.conf" 2>/dev/null |
		head -n1)
	echo "${v:-$2}"
}

# kib FILE FIELD - a "Field: N kB" line's N
kib() {
	sed -n "s/^$2:[[:space:]]*\([0-9]*\) kB/\1/p" "$1"
}

# idle_rss - the four daemons' memory, idle, in MiB: RSS (which counts the pages of the shared
# libraries once per process), PSS (those shared among them) and private (one process's alone)
idle_rss() {
	local name pids rss=0 pss=0 priv=0 f
	for name in ingressd authd telemetryd logd; do
		pids=$(pgrep -f "bin/sembark-$name --config" || true)
		if [ "$(wc -w <<<"$pids")" != 1 ]; then
			notes+=("memory: not measured, $(wc -w <<<"$pids") sembark-$name processes run")
			return 0
		fi
		f=/proc/$pids/smaps_rollup
		rss=$((rss + $(kib "$f" Rss)))
		pss=$((pss + $(kib "$f" Pss)))
		priv=$((priv + $(kib "$f" Private_Clean) + $(kib "$f" Private_Dirty)))
	done
	awk -v r="$rss" -v p="$pss" -v v="$priv" \
		'BEGIN { printf "RSS %.1f MiB, PSS %.1f MiB, private %.1f MiB", r / 1024, p / 1024, v / 1024 }'
}

# measure_hello - the evhttp hello server's requests/s with this run's wrk settings; the
# ceiling is the best of its runs (before and after the benchmarks: the machine is shared)
measure_hello() {
	local bin=$ROOT/$BUILD/bench/hello pid out rps
	[ -x "$bin" ] || die "$bin is missing: make bench builds it"
	if (exec 3<>"/dev/tcp/$HOST/$HELLO_PORT") 2>/dev/null; then
		die "HELLO_PORT $HELLO_PORT is taken; set HELLO_PORT to a free port"
	fi
	"$bin" "$HELLO_PORT" >/dev/null &
	pid=$!
	sleep 0.3
	out=$(env BENCH_LIB="$BENCH_DIR/lib" timeout --signal=INT $((DURATION_S + 30)) \
		wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --timeout 5s \
		-s "$BENCH_DIR/lib/ceiling.lua" "http://$HOST:$HELLO_PORT" 2>&1) || true
	kill -INT "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	rps=$(field "$(grep '^BENCH_RESULT ' <<<"$out" | tail -n1)" rps)
	[ -n "$rps" ] || die "the hello ceiling gave no result: $out"
	HELLO_RUNS+=("$rps")
	if [ -z "$HELLO_RPS" ] || [ "$rps" -gt "$HELLO_RPS" ]; then
		HELLO_RPS=$rps
	fi
}

# measure_bcrypt - hashes/s at the stack's cost on its hash threads, for DURATION
measure_bcrypt() {
	local bin=$ROOT/$BUILD/bench/bcrypt_probe cost threads out
	[ -x "$bin" ] || die "$bin is missing: make bench builds it"
	cost=${SEMBARK_AUTH_BCRYPT_COST:-$(conf_value bcrypt_cost 12)}
	threads=${SEMBARK_AUTH_HASH_THREADS:-$(conf_value hash_threads 2)}
	out=$("$bin" "$cost" "$threads" "$DURATION_S") || die "bcrypt_probe failed: $out"
	BCRYPT_RATE=$(sed -n 's/.*hashes_per_s=\([0-9.]*\).*/\1/p' <<<"$out")
	notes+=("bcrypt ceiling: $BCRYPT_RATE hashes/s at cost $cost on $threads threads (bench/ceiling/bcrypt_probe.c)")
}

# ratio VALUE CEILING - VALUE / CEILING to two places, or - without a ceiling
ratio() {
	[ -n "$2" ] && [ "$2" != 0 ] || { echo -; return; }
	awk -v v="$1" -v c="$2" 'BEGIN { printf "%.2f", v / c }'
}

# bench_names - the benchmarks to run, as bench/<name>.lua names
bench_names() {
	local f name
	if [ -n "$BENCH" ]; then
		for name in $BENCH; do
			[[ $name =~ ^[a-z0-9_]+$ ]] && [ -f "$BENCH_DIR/$name.lua" ] ||
				die "no benchmark '$name' (bench/$name.lua)"
			echo "$name"
		done
		return
	fi
	for f in "$BENCH_DIR"/*.lua; do
		name=${f##*/}
		echo "${name%.lua}"
	done
}

# setup_env NAME - run bench/NAME.sh if there is one; print its BENCH_ lines
setup_env() {
	local script=$BENCH_DIR/$1.sh out
	[ -f "$script" ] || return 0
	out=$(BASE_URL=$BASE_URL timeout 60 bash "$script") || {
		echo "bench: $1: bench/$1.sh failed" >&2
		return 1
	}
	grep -E '^BENCH_[A-Z0-9_]+=' <<<"$out" || true
}

# env_into ARRAY NAME - bench/NAME.sh's BENCH_ lines into the array ARRAY (for env); false
# when the script failed
env_into() {
	local -n into=$1
	local out l
	out=$(setup_env "$2") || return 1
	into=()
	while IFS= read -r l; do
		[ -n "$l" ] && into+=("$l")
	done <<<"$out"
	return 0
}

# field LINE KEY - the value of key=value in a BENCH_RESULT line
field() {
	sed -n "s/.* $2=\\([0-9.]*\\).*/\\1/p" <<<"$1"
}

# bench_connections LUA - the connections for one benchmark: CONNECTIONS, or
# fewer when its file says "-- connections: N" (login: more connections than
# hash threads would only queue, past wrk's 5 s timeout); never below THREADS
bench_connections() {
	local n
	n=$(sed -n 's/^-- connections: \([0-9]\{1,5\}\)$/\1/p' "$1" | head -n1)
	[ -n "$n" ] && [ "$n" -lt "$CONNECTIONS" ] || n=$CONNECTIONS
	[ "$n" -ge "$THREADS" ] || n=$THREADS
	echo "$n"
}

# add_row TITLE VALUE KIND LINE ERRORS - a row of ROWS: VALUE (requests/s, or what the row
# counts) beside ceiling KIND, the latencies of the BENCH_RESULT LINE, ERRORS
add_row() {
	ROWS+=("$1|$2|$3|$(field "$4" p50)|$(field "$4" p90)|$(field "$4" p99)|$(field "$4" max)|$5")
}

# print_rows - the table rows of ROWS (title|rps|ceiling kind|p50|p90|p99|max|errors),
# each beside its ceiling: hello (HELLO_RPS), bcrypt (BCRYPT_RATE) or none
print_rows() {
	local row title rps kind p50 p90 p99 max errors ceiling
	for row in "${ROWS[@]+"${ROWS[@]}"}"; do
		IFS='|' read -r title rps kind p50 p90 p99 max errors <<<"$row"
		case $kind in
		hello) ceiling=$HELLO_RPS ;;
		bcrypt) ceiling=$BCRYPT_RATE ;;
		*) ceiling= ;;
		esac
		printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$title" "$rps" \
			"${ceiling:--}" "$(ratio "$rps" "$ceiling")" "$p50" "$p90" "$p99" "$max" "$errors"
	done
}

# run_one NAME - run one benchmark, keep its table row in ROWS
run_one() {
	local name=$1 lua=$BENCH_DIR/$1.lua title out line env_lines=() conns
	title=$(sed -n 's/^-- title: //p' "$lua" | head -n1)
	[ -n "$title" ] || title=$name
	conns=$(bench_connections "$lua")
	[ "$conns" = "$CONNECTIONS" ] || title="$title, $conns connections"
	env_into env_lines "$name" || return 1
	out=$(env BENCH_LIB="$BENCH_DIR/lib" "${env_lines[@]}" \
		timeout --signal=INT $((DURATION_S + 30)) \
		wrk -t"$THREADS" -c"$conns" -d"$DURATION" --timeout 5s -s "$lua" "$BASE_URL" 2>&1) ||
		true
	line=$(grep '^BENCH_RESULT ' <<<"$out" | tail -n1)
	if [ -z "$line" ]; then
		echo "bench: $name: wrk gave no result:" >&2
		sed 's/^/    /' <<<"$out" >&2
		return 1
	fi
	add_row "$title" "$(field "$line" rps)" "$(sed -n 's/^-- ceiling: //p' "$lua" | head -n1)" \
		"$line" $(($(field "$line" non2xx) + $(field "$line" errors)))
	note_errors "$title" "$line"
}

# note_errors TITLE LINE - explain a row whose answers were not all fine
note_errors() {
	local bad errors
	bad=$(field "$2" non2xx)
	errors=$(field "$2" errors)
	if [ "$bad" -gt 0 ]; then
		notes+=("$1: $bad answers were not 2xx/3xx (429 means the per-client rate limit: start the stack with SEMBARK_INGRESS_CLIENT_RATE_LIMIT=0 make run)")
	fi
	if [ "$errors" -gt 0 ]; then
		notes+=("$1: $errors connect/read/write errors or timeouts (over 5 s)")
	fi
	return 0
}

# header - what the numbers were measured on
header() {
	local cpu commit
	cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo 2>/dev/null | head -n1)
	commit=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
	echo "wrk -t$THREADS -c$CONNECTIONS -d$DURATION against $BASE_URL," \
		"$(date -u +%Y-%m-%d), commit $commit, $(nproc) CPUs${cpu:+ ($cpu)}"
	echo
	echo "| benchmark | requests/s | ceiling/s | ratio | p50 ms | p90 ms | p99 ms | max ms | errors |"
	echo "|---|--:|--:|--:|--:|--:|--:|--:|--:|"
}

# telemetry_rates NAMES - when telemetry is among the benchmarks: events/s
# through HTTP (batches of 100 and 500) and the raw COPY rate, by
# bench/telemetry.sh --rates, as a table of its own
telemetry_rates() {
	grep -qx telemetry <<<"$1" || return 0
	echo
	BASE_URL=$BASE_URL PORT=$PORT DURATION=$DURATION CONNECTIONS=$CONNECTIONS THREADS=$THREADS \
		bash "$BENCH_DIR/telemetry.sh" --rates
}

# flood_start OUT - FLOOD_CONNECTIONS of logins for DURATION + 4 s in the background, wrk's
# output to OUT; FLOOD_PID is wrk's
flood_start() {
	env BENCH_LIB="$BENCH_DIR/lib" "${LOGIN_ENV[@]}" timeout --signal=INT $((DURATION_S + 34)) \
		wrk -t1 -c"$FLOOD_CONNECTIONS" -d"$((DURATION_S + 4))s" --timeout 5s \
		-s "$BENCH_DIR/login.lua" "$BASE_URL" >"$1" 2>&1 &
	FLOOD_PID=$!
}

# flood_row OUT - the row of a flood: good logins/s beside the bcrypt ceiling (its p50 is a
# refusal's time); false when wrk gave no result
flood_row() {
	local line good
	line=$(grep '^BENCH_RESULT ' "$1" | tail -n1)
	[ -n "$line" ] || return 1
	good=$(awk -v r="$(field "$line" requests)" -v n="$(field "$line" non2xx)" \
		-v s="$((DURATION_S + 4))" 'BEGIN { printf "%.1f", (r - n) / s }')
	add_row "POST /api/login flood, $FLOOD_CONNECTIONS connections$2: good logins/s ($(field "$line" non2xx) refused, 503 + Retry-After)" \
		"$good" bcrypt "$line" "$(field "$line" errors)"
}

# me_during_flood NAMES - when me and login are among the benchmarks: a flood of logins
# (FLOOD_CONNECTIONS, 40: far more than the hash threads can serve, so most are refused with
# 503 + Retry-After and wrk asks again at once), alone, then again with GET /api/me on 8
# connections during it: good logins/s of each beside the bcrypt ceiling, /api/me's latency.
me_during_flood() {
	local out line me_env=() flood_out
	grep -qx login <<<"$1" && grep -qx me <<<"$1" || return 0
	env_into LOGIN_ENV login || return 1
	env_into me_env me || return 1
	flood_out=$(mktemp)
	flood_start "$flood_out"
	wait "$FLOOD_PID" || true # not a bare wait: the stack run.sh started is a child too
	flood_row "$flood_out" "" || { echo "bench: the login flood gave no result" >&2; return 1; }
	sleep 3 # the pool's queue is empty again
	flood_start "$flood_out"
	sleep 2 # the flood is on
	out=$(env BENCH_LIB="$BENCH_DIR/lib" "${me_env[@]}" timeout --signal=INT $((DURATION_S + 30)) \
		wrk -t1 -c8 -d"$DURATION" --timeout 5s -s "$BENCH_DIR/me.lua" "$BASE_URL" 2>&1) || true
	wait "$FLOOD_PID" || true
	flood_row "$flood_out" " with /api/me beside" || true
	rm -f "$flood_out"
	line=$(grep '^BENCH_RESULT ' <<<"$out" | tail -n1)
	[ -n "$line" ] || { echo "bench: /api/me during the login flood gave no result" >&2; return 1; }
	add_row "GET /api/me, 8 connections, during that flood" "$(field "$line" rps)" "" "$line" \
		$(($(field "$line" non2xx) + $(field "$line" errors)))
}

# held_connections NAMES - when healthz is among the benchmarks: GET /healthz from wrk on
# 127.0.0.1 while bench/hold_conns.py holds HOLD_SLOW slowloris and HOLD_IDLE idle keep-alive
# connections from other loopback addresses; its p99 beside the target
held_connections() {
	local out line held hold_out hold_pid p99 verdict
	grep -qx healthz <<<"$1" || return 0
	hold_out=$(mktemp)
	timeout --signal=INT $((DURATION_S + 150)) python3 "$BENCH_DIR/hold_conns.py" "$PORT" \
		$((DURATION_S + 120)) "$HOLD_SLOW" "$HOLD_IDLE" >"$hold_out" 2>&1 &
	hold_pid=$!
	for _ in $(seq 1 240); do
		grep -q '^held ' "$hold_out" && break
		kill -0 "$hold_pid" 2>/dev/null || break
		sleep 0.5
	done
	held=$(sed -n 's/^held //p' "$hold_out")
	if [ -z "$held" ]; then
		kill -INT "$hold_pid" 2>/dev/null || true
		wait "$hold_pid" 2>/dev/null || true
		echo "bench: hold_conns.py held nothing: $(cat "$hold_out")" >&2
		rm -f "$hold_out"
		return 1
	fi
	out=$(env BENCH_LIB="$BENCH_DIR/lib" timeout --signal=INT $((DURATION_S + 30)) \
		wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --timeout 5s -s "$BENCH_DIR/healthz.lua" \
		"$BASE_URL" 2>&1) || true
	kill -INT "$hold_pid" 2>/dev/null || true
	wait "$hold_pid" 2>/dev/null || true
	rm -f "$hold_out"
	line=$(grep '^BENCH_RESULT ' <<<"$out" | tail -n1)
	[ -n "$line" ] || { echo "bench: /healthz beside the held connections gave no result" >&2; return 1; }
	add_row "GET /healthz while $held connections are held (target: p99 < $HOLD_P99_TARGET_MS ms)" \
		"$(field "$line" rps)" hello "$line" $(($(field "$line" non2xx) + $(field "$line" errors)))
	p99=$(field "$line" p99)
	verdict=$(awk -v p="$p99" -v t="$HOLD_P99_TARGET_MS" 'BEGIN { print (p < t) ? "met" : "missed" }')
	notes+=("held connections: /healthz p99 $p99 ms beside $held (bench/hold_conns.py, from 127.0.0.2 and up): target p99 < $HOLD_P99_TARGET_MS ms $verdict")
}

# login_note NAMES - when login is among the benchmarks: what its row measures
login_note() {
	local cost
	grep -qx login <<<"$1" || return 0
	cost=$(sed -n 's/^bcrypt_cost[[:space:]]*=[[:space:]]*\([0-9]*\).*/\1/p' \
		"$ROOT/var/sembark.conf" 2>/dev/null | head -n1)
	notes+=("login: every request is a full password verify (bcrypt cost ${SEMBARK_AUTH_BCRYPT_COST:-${cost:-12}} unless the stack was started otherwise) on authd's [auth] hash_threads, so its rate is the hash rate (the bcrypt ceiling). The stack make bench starts has the per-address limit off; one you started yourself needs SEMBARK_INGRESS_CLIENT_RATE_LIMIT=0 make run, or [ingress] client_rate_limit (120/min) answers 429 after its burst. Logins rotate over several accounts: the per-email throttle counts a login in flight as a failure until it succeeds.")
}

main() {
	local names name failed=0 n rss
	check_args
	names=$(bench_names)
	trap stop_stack EXIT
	ensure_stack
	sleep 3 # what the stack does right after it started is over
	rss=$(idle_rss)
	measure_hello
	measure_bcrypt
	for name in $names; do
		run_one "$name" || failed=$((failed + 1))
	done
	me_during_flood "$names" || failed=$((failed + 1))
	held_connections "$names" || failed=$((failed + 1))
	measure_hello
	header
	print_rows
	telemetry_rates "$names" || failed=$((failed + 1))
	login_note "$names"
	echo
	[ -z "$rss" ] || echo "Memory: the four daemons, idle before the load: $rss (target < 32 MiB)."
	echo "Ceiling for HTTP rows: evhttp hello (bench/ceiling/hello.c) $HELLO_RPS requests/s, the best of ${HELLO_RUNS[*]} (before and after the benchmarks)."
	echo
	for n in "${notes[@]+"${notes[@]}"}"; do
		echo "note: $n"
	done
	[ "$failed" -eq 0 ] || die "$failed benchmark(s) could not run"
}

main "$@"
