#!/usr/bin/env bash
# run.sh - `make run`: the whole of sembark in the foreground, for development.
#
#   PORT=8080 BUILD=build bash scripts/run.sh      (what `make run PORT=...` does)
#
# 1. scripts/pg.sh start: the private PostgreSQL under var/ (Unix socket only)
# 2. scripts/genconf.sh: var/sembark.conf for this PORT (rewritten every run)
# 3. sembarkctl migrate: schema up to date, daemon role passwords set
# 4. sembark-logd, -authd, -telemetryd, -maild, -ingressd with --config var/sembark.conf,
#    supervised like systemd's Restart=on-failure: a daemon that exits is
#    started again after 1 s, unless it was started 5 times within 10 s
#    (systemd's default StartLimitBurst=5 in StartLimitIntervalSec=10s).
# 5. once GET /healthz answers 200: "sembark is running at ..."
# On SIGINT/SIGTERM/SIGHUP: SIGTERM to ingressd, authd and telemetryd, then to
# logd (so it stores the others' last records), SIGKILL after 15 s, then
# PostgreSQL stops (fast mode), exit 0.
#
# Each daemon runs in its own session (setsid), so a Ctrl-C reaches only this
# script, which then stops everything in order. Daemon stderr is shown here,
# prefixed with its name, and appended to var/log/<daemon>.log. SEMBARK_*
# environment overrides reach the daemons unchanged (SEMBARK_VAR, which is
# this script's, not a config key, is taken out).
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/var.sh
. "$ROOT/scripts/var.sh"
VAR=$(sembark_var_dir)
BUILD=${BUILD:-build}
case $BUILD in /*) BIN=$BUILD/bin ;; *) BIN=$ROOT/$BUILD/bin ;; esac
PORT=${PORT:-8080}
PIDFILE=$VAR/run/run.pid
START_ORDER=(logd authd telemetryd maild ingressd)
RESTART_BURST=5    # starts ...
RESTART_WINDOW=10  # ... within this many seconds: give up on the daemon
STOP_TIMEOUT=15    # s before SIGKILL

declare -A PID=()       # name -> pid of the running daemon
declare -A NAME=()      # pid -> name
declare -A STARTS=()    # name -> start times (epoch s), space separated
HEALTH_PID=""
TICK_PID=""
STOPPING=0

say() { printf 'run: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

preflight() {
	local d
	for d in sembarkctl sembark-logd sembark-authd sembark-telemetryd sembark-maild sembark-ingressd; do
		[ -x "$BIN/$d" ] || die "$BIN/$d is missing: build first (make)"
	done
	case $PORT in '' | *[!0-9]*) die "PORT must be a number, not '$PORT'" ;; esac
	if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
		die "something already listens on 127.0.0.1:$PORT; try make run PORT=<another>"
	fi
	mkdir -p "$VAR/run" "$VAR/log"
	if [ -f "$PIDFILE" ]; then
		local old
		old=$(cat "$PIDFILE" 2>/dev/null || true)
		if [ -n "$old" ] && [ "$old" != $$ ] && kill -0 "$old" 2>/dev/null &&
			grep -q run.sh "/proc/$old/cmdline" 2>/dev/null; then
			die "make run is already running here (pid $old)"
		fi
	fi
	echo $$ >"$PIDFILE"
}

# alive PID - exists and is not a zombie waiting to be reaped
alive() {
	local st
	kill -0 "$1" 2>/dev/null || return 1
	read -r _ _ st _ <"/proc/$1/stat" 2>/dev/null || return 1
	[ "$st" != Z ]
}

# the daemon's output: to the terminal with a [name] prefix and to its log.
# Whole lines, flushed a line at a time (stdbuf -oL), but read in blocks:
# `sed -u` reads a byte at a time and cost a core under load (a line per
# request), more than ingressd itself.
daemon_output() {
	trap '' INT TERM HUP
	tee -a "$VAR/log/$1.log" | stdbuf -oL sed "s/^/[$1] /" >&2
}

start_daemon() {
	local name=$1 pid
	env -u SEMBARK_VAR setsid "$BIN/sembark-$name" --config "$CONF" \
		</dev/null 2> >(daemon_output "$name") >&2 &
	pid=$!
	PID[$name]=$pid
	NAME[$pid]=$name
	STARTS[$name]="${STARTS[$name]:-} $(date +%s)"
	say "started sembark-$name (pid $pid)"
}

# true when name started RESTART_BURST times within RESTART_WINDOW seconds
crash_looping() {
	local now t n=0
	now=$(date +%s)
	for t in ${STARTS[$1]}; do
		[ $((now - t)) -lt $RESTART_WINDOW ] && n=$((n + 1))
	done
	[ "$n" -ge $RESTART_BURST ]
}

on_exit_of() { # on_exit_of PID STATUS
	local pid=$1 status=$2 name=${NAME[$1]}
	unset "NAME[$pid]" "PID[$name]"
	[ "$STOPPING" = 1 ] && return 0
	if [ "$status" -gt 128 ]; then
		say "sembark-$name (pid $pid) was killed by signal $((status - 128))"
	else
		say "sembark-$name (pid $pid) exited with status $status"
	fi
	if crash_looping "$name"; then
		say "sembark-$name keeps exiting ($RESTART_BURST starts in ${RESTART_WINDOW}s): not restarting it;" \
			"see $VAR/log/$name.log, then restart make run"
		return 0
	fi
	sleep 1
	[ "$STOPPING" = 1 ] || start_daemon "$name"
}

# GET /healthz; prints the status code, the body into $1
probe() {
	local body=$1 code
	if command -v curl >/dev/null 2>&1; then
		code=$(curl -s -m 2 -o "$body" -w '%{http_code}' "http://127.0.0.1:$PORT/healthz" 2>/dev/null)
		printf '%s' "${code:-000}"
		return
	fi
	{ exec 3<>"/dev/tcp/127.0.0.1/$PORT"; } 2>/dev/null || { printf '000'; return; }
	printf 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:%s\r\nConnection: close\r\n\r\n' "$PORT" >&3
	timeout 2 cat <&3 >"$body.raw" || true
	exec 3<&-
	code=$(head -n 1 "$body.raw" | cut -d ' ' -f 2)
	sed '1,/^\r\{0,1\}$/d' "$body.raw" >"$body"
	printf '%s' "${code:-000}"
}

health_watch() {
	local body=$VAR/run/healthz.body code="" i down
	for i in $(seq 1 40); do
		code=$(probe "$body")
		code=${code:-000}
		if [ "$code" = 200 ]; then
			rm -f "$body" "$body.raw"
			printf '\nsembark is running at http://127.0.0.1:%s/ (Ctrl-C to stop)\n\n' "$PORT" >&2
			return 0
		fi
		sleep 0.5
	done
	if [ "$code" = 000 ]; then
		say "WARNING: ingressd does not answer on 127.0.0.1:$PORT after 20 s"
		return 1
	fi
	down=$(grep -o '"[a-z]*": *"down"' "$body" 2>/dev/null | cut -d '"' -f 2 | tr '\n' ' ')
	say "WARNING: /healthz answers $code after 20 s; down: ${down:-unknown}"
}

# stop_group NAME... - SIGTERM, wait up to STOP_TIMEOUT, then SIGKILL
stop_group() {
	local name pid i alive pids=()
	for name in "$@"; do
		pid=${PID[$name]:-}
		[ -n "$pid" ] || continue
		kill -TERM "$pid" 2>/dev/null && pids+=("$pid")
	done
	[ ${#pids[@]} -gt 0 ] || return 0
	for ((i = 0; i < STOP_TIMEOUT * 10; i++)); do
		alive=0
		for pid in "${pids[@]}"; do
			alive "$pid" && alive=1
		done
		[ $alive = 1 ] || break
		sleep 0.1
	done
	for pid in "${pids[@]}"; do
		if alive "$pid"; then
			say "sembark-${NAME[$pid]} did not stop within ${STOP_TIMEOUT}s: SIGKILL"
			kill -KILL "$pid" 2>/dev/null
		fi
		wait "$pid" 2>/dev/null
		say "sembark-${NAME[$pid]} stopped"
	done
}

shutdown() {
	trap '' INT TERM HUP
	STOPPING=1
	say "stopping"
	[ -n "$HEALTH_PID" ] && kill "$HEALTH_PID" 2>/dev/null
	[ -n "$TICK_PID" ] && kill "$TICK_PID" 2>/dev/null
	stop_group ingressd authd telemetryd maild
	stop_group logd
	bash "$ROOT/scripts/pg.sh" stop
	rm -f "$PIDFILE"
	say "stopped"
	exit 0
}

# reap every supervised daemon that is gone (wait -n tells about one)
sweep() {
	local pid status
	for pid in "${!NAME[@]}"; do
		alive "$pid" && continue
		wait "$pid" 2>/dev/null
		status=$?
		on_exit_of "$pid" "$status"
	done
}

supervise() {
	local done_pid status
	while :; do
		if [ ${#NAME[@]} -eq 0 ]; then
			say "no daemon left running; stopping"
			shutdown
		fi
		# a tick wakes the loop up now and then, whatever wait -n misses
		sleep 5 &
		TICK_PID=$!
		done_pid=""
		wait -n -p done_pid "${!NAME[@]}" "$TICK_PID"
		status=$?
		kill "$TICK_PID" 2>/dev/null
		wait "$TICK_PID" 2>/dev/null
		if [ -n "$done_pid" ] && [ -n "${NAME[$done_pid]:-}" ]; then
			on_exit_of "$done_pid" "$status"
		fi
		sweep
	done
}

main() {
	local name
	preflight
	trap shutdown INT TERM HUP
	bash "$ROOT/scripts/pg.sh" start || { rm -f "$PIDFILE"; die "PostgreSQL did not start"; }
	CONF=$(PORT=$PORT bash "$ROOT/scripts/genconf.sh") || { STOPPING=1; shutdown; }
	say "config: $CONF"
	if ! env -u SEMBARK_VAR "$BIN/sembarkctl" --config "$CONF" migrate; then
		say "migration failed; stopping PostgreSQL"
		bash "$ROOT/scripts/pg.sh" stop
		rm -f "$PIDFILE"
		exit 1
	fi
	for name in "${START_ORDER[@]}"; do
		start_daemon "$name"
	done
	say "logs: $VAR/log/"
	health_watch &
	HEALTH_PID=$!
	supervise
}

main "$@"
