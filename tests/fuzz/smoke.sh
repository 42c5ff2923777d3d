#!/usr/bin/env bash
# tests/fuzz/smoke.sh - a short run of every fuzz target in $BUILD/fuzz:
# its seeds (tests/fuzz/corpus-<name>/, each a regression case) and then
# FUZZ_SMOKE_TIME seconds of fuzzing from them, in a fresh scratch corpus.
# One line per target, then "N passed, M failed" (tests/run.sh reads it);
# the exit code is non-zero when a target crashed, leaked, hung or is
# missing. `make fuzz-smoke` builds the targets and runs this.
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-build}
FUZZ_SMOKE_TIME=${FUZZ_SMOKE_TIME:-5}
cd "$ROOT" || exit 1
passed=0
failed=0
logdir="$BUILD/test-logs"
mkdir -p "$logdir"

for src in tests/fuzz/fuzz-*.c; do
	name=$(basename "$src" .c)
	bin="$BUILD/fuzz/$name"
	log="$logdir/$name.log"
	scratch="$BUILD/fuzz/smoke/$name"
	if [ ! -x "$bin" ]; then
		echo "fuzz: $name is not built (make fuzz-build)" >&2
		failed=$((failed + 1))
		continue
	fi
	rm -rf "$scratch" && mkdir -p "$scratch"
	args=(-max_total_time="$FUZZ_SMOKE_TIME" -max_len=4096 -timeout=10 -print_final_stats=1
	      -artifact_prefix="$BUILD/fuzz/$name-")
	[ -f "tests/fuzz/$name.dict" ] && args+=(-dict="tests/fuzz/$name.dict")
	seeds="tests/fuzz/corpus-${name#fuzz-}"
	[ -d "$seeds" ] || seeds=
	rc=0
	# the scratch corpus first: libFuzzer writes what it finds there, not into the seeds
	timeout -k 10 $((FUZZ_SMOKE_TIME + 120)) "$bin" "${args[@]}" "$scratch" ${seeds:+"$seeds"} \
		>"$log" 2>&1 || rc=$?
	runs=$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+)/\1/p' "$log" | tail -1)
	if [ "$rc" -ne 0 ] || [ -z "$runs" ]; then
		echo "fuzz: $name FAILED (exit $rc; log $log):" >&2
		grep -E 'ERROR|SUMMARY|runtime error|Test unit written' "$log" | head -10 >&2
		failed=$((failed + 1))
	else
		echo "fuzz: $name: $runs runs in ${FUZZ_SMOKE_TIME}s, no crash"
		passed=$((passed + 1))
	fi
	rm -rf "$scratch"
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
