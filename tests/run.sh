#!/usr/bin/env bash
# tests/run.sh - run sembark's whole suite and print one summary line.
#
# Unit tests: every $BUILD/tests/test-* binary (cmocka), and the browser
# client's modules under `node --test tests/web`. Fuzz smoke: each
# $BUILD/fuzz/fuzz-* target on its seeds and a few seconds more
# (tests/fuzz/smoke.sh; each target counts as one test; not with
# --unit-only, which needs no clang). Integration and browser
# tests: pytest on tests/integration and tests/e2e against the real
# daemons in $BUILD/bin and a private PostgreSQL the fixture starts. The
# last line is "N passed, M failed" so CI can read it; the exit code is
# non-zero when anything failed or no test ran.
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-build}
PYTHON=${PYTHON:-/usr/bin/python3}
UNIT_ONLY=0
[ "${1:-}" = "--unit-only" ] && UNIT_ONLY=1

cd "$ROOT" || exit 1
passed=0
failed=0
UNIT_TIMEOUT_S=${UNIT_TIMEOUT_S:-900} # per unit test binary (ASan builds are slow)
logdir="$BUILD/test-logs"
mkdir -p "$logdir"

run_unit() {
	local t name out p f
	for t in "$BUILD"/tests/test-*; do
		[ -x "$t" ] || continue
		name=$(basename "$t")
		out="$logdir/$name.log"
		local rc=0
		# bounded: a test that fails before closing its sockets can leave
		# zmq_ctx_term waiting for ever in its teardown
		timeout -k 10 "$UNIT_TIMEOUT_S" "$t" >"$out" 2>&1 || rc=$?
		p=$(sed -nE 's/^\[  PASSED  \] ([0-9]+) test\(s\)\..*/\1/p' "$out" | tail -1)
		f=$(sed -nE 's/^\[  FAILED  \] ([0-9]+) test\(s\), listed below.*/\1/p' "$out" | tail -1)
		p=${p:-0}; f=${f:-0}
		if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
			echo "unit: $name did not finish within ${UNIT_TIMEOUT_S}s (a hang; its last lines):" >&2
			tail -20 "$out" >&2
			f=$((f + 1))
		elif ! grep -q 'test(s) run' "$out"; then
			echo "unit: $name crashed before reporting:" >&2
			tail -20 "$out" >&2
			f=$((f + 1))
		elif [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
			echo "unit: $name exited $rc with no failed test (sanitizer?):" >&2
			tail -20 "$out" >&2
			f=1
		fi
		passed=$((passed + p))
		failed=$((failed + f))
		if [ "$f" -gt 0 ]; then
			echo "unit: $name: $p passed, $f failed" >&2
			grep -E 'FAILED|ERROR|Assertion|error:' "$out" | head -20 >&2
		else
			echo "unit: $name: $p passed"
		fi
	done
}

# run_web - the browser client's pure modules under Node's test runner (TAP: "# pass N")
run_web() {
	local out="$logdir/web.log" p f rc=0
	if ! command -v node >/dev/null 2>&1; then
		echo "web: node is missing (scripts/deps.sh test installs nodejs)" >&2
		failed=$((failed + 1))
		return
	fi
	node --test tests/web >"$out" 2>&1 || rc=$?
	p=$(sed -nE 's/^# pass ([0-9]+)$/\1/p' "$out" | tail -1)
	f=$(sed -nE 's/^# fail ([0-9]+)$/\1/p' "$out" | tail -1)
	p=${p:-0}; f=${f:-0}
	if [ -z "$(sed -nE 's/^# pass ([0-9]+)$/\1/p' "$out")" ] || { [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; }; then
		echo "web: node --test tests/web exited $rc without a summary:" >&2
		tail -20 "$out" >&2
		f=$((f + 1))
	fi
	passed=$((passed + p))
	failed=$((failed + f))
	if [ "$f" -gt 0 ]; then
		echo "web: $p passed, $f failed" >&2
		grep -E '^not ok|error:' "$out" | head -20 >&2
	else
		echo "web: $p passed"
	fi
}

# run_fuzz - tests/fuzz/smoke.sh; its last line is "N passed, M failed"
run_fuzz() {
	local out="$logdir/fuzz-smoke.log" line p f rc=0
	BUILD="$BUILD" bash tests/fuzz/smoke.sh >"$out" 2>&1 || rc=$?
	grep '^fuzz:' "$out"
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$out" | tail -1)
	p=$(sed -nE 's/^([0-9]+) passed.*/\1/p' <<<"$line")
	f=$(sed -nE 's/.* ([0-9]+) failed$/\1/p' <<<"$line")
	p=${p:-0}; f=${f:-0}
	if [ -z "$line" ] || { [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; }; then
		echo "fuzz: tests/fuzz/smoke.sh exited $rc without a summary:" >&2
		tail -20 "$out" >&2
		f=$((f + 1))
	fi
	passed=$((passed + p))
	failed=$((failed + f))
}

run_integration() {
	local out="$logdir/pytest.log" line p f e
	SEMBARK_BUILD="$BUILD" "$PYTHON" -m pytest tests/integration tests/e2e -q -p no:cacheprovider \
		--durations=10 2>&1 | tee "$out"
	line=$(grep -E '^(=+ )?[0-9]+ (passed|failed|error)' "$out" | tail -1)
	p=$(grep -oE '[0-9]+ passed' <<<"$line" | grep -oE '[0-9]+')
	f=$(grep -oE '[0-9]+ failed' <<<"$line" | grep -oE '[0-9]+')
	e=$(grep -oE '[0-9]+ errors?' <<<"$line" | grep -oE '[0-9]+')
	p=${p:-0}; f=${f:-0}; e=${e:-0}
	if [ -z "$line" ]; then
		echo "integration: pytest printed no summary" >&2
		f=$((f + 1))
	fi
	passed=$((passed + p))
	failed=$((failed + f + e))
}

run_unit
run_web
if [ "$UNIT_ONLY" = 0 ]; then
	run_fuzz
	run_integration
fi

if [ $((passed + failed)) -eq 0 ]; then
	echo "no test ran" >&2
	failed=1
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
