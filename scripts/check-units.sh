#!/usr/bin/env bash
# check-units.sh - the gate on sembark's systemd files (`make check-units`).
#
# For every unit in systemd/ (*.service, *.socket, *.target), and the
# template sembark-ingressd@.service that scripts/ingress-template.sh makes
# from sembark-ingressd.service (the package installs it):
#   - `systemd-analyze verify` must pass and print nothing (unknown keys and
#     bad values are only warnings there, so any output counts as a failure).
#     verify wants the Exec*= binaries to exist, so the units are checked as
#     copies in a temporary directory whose /usr/bin/sembark* paths point at
#     the binaries `make` built in $BUILD/bin (built first when missing);
#   - every sembark unit it names (Wants=, After=, PartOf=, ...) must exist;
#   - a .service must score at most MAX_EXPOSURE (default 2.5) on
#     `systemd-analyze security --offline=true` (0.0 best, 10.0 worst).
# Then sysusers.d/ and tmpfiles.d/ are applied to a scratch root with
# --root=, every User=/Group=/SupplementaryGroups= of a unit must be one
# sysusers.d creates, and sembark.conf.example must pass --check-config.
#
# No running systemd is needed (works in a container, as root, on Debian 12
# with systemd 252). Prints one line per file and "N passed, M failed";
# exits 1 on any failure, 2 when it cannot run at all.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
UNITS=${UNIT_DIR:-$ROOT/systemd} # UNIT_DIR: check another copy (for tests)
MAX_EXPOSURE=${MAX_EXPOSURE:-2.5}

passed=0
failed=0
TMP=""

die() {
	echo "check-units: $*" >&2
	exit 2
}

cleanup() {
	if [ -n "$TMP" ]; then rm -rf "$TMP"; fi
}
trap cleanup EXIT

# row NAME VERIFY EXPOSURE RESULT - one line of the table, counted
row() {
	printf '%-32s %-8s %-9s %s\n' "$1" "$2" "$3" "$4"
	if [ "$4" = pass ]; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
}

# indent - show a tool's complaints under the table line they belong to
indent() {
	sed -e "s|$TMP/units/|systemd/|g" -e 's/^/    /'
}

# need_tools - the systemd tools this check runs, or exit 2
need_tools() {
	local t
	for t in systemd-analyze systemd-sysusers systemd-tmpfiles; do
		command -v "$t" >/dev/null 2>&1 ||
			die "$t not found (Debian package systemd; scripts/deps.sh installs it)"
	done
}

# unit_binaries - the sembark binaries the units' Exec*= lines run
unit_binaries() {
	grep -ho '/usr/bin/sembark[a-z-]*' "$UNITS"/*.service | sort -u | xargs -n1 basename
}

# ensure_binaries - build what is missing in $BUILD/bin, or give up clearly
ensure_binaries() {
	local b missing=()
	for b in $(unit_binaries); do
		[ -x "$BUILD/bin/$b" ] || missing+=("$BUILD/bin/$b")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	echo "check-units: building ${missing[*]#"$ROOT"/}" >&2
	make -C "$ROOT" --no-print-directory BUILD="$BUILD" "${missing[@]}" >&2 ||
		die "cannot build ${missing[*]#"$ROOT"/}; systemd-analyze verify needs the binaries the units run (fix the build, then retry)"
}

# stage_units - copies of the units with Exec*= pointing at the built binaries
stage_units() {
	local b f
	mkdir -p "$TMP/bin" "$TMP/units"
	for b in $(unit_binaries); do
		ln -s "$BUILD/bin/$b" "$TMP/bin/$b"
	done
	for f in "$UNITS"/*.service "$UNITS"/*.socket "$UNITS"/*.target; do
		[ -e "$f" ] || continue
		sed "s|/usr/bin/sembark|$TMP/bin/sembark|g" "$f" >"$TMP/units/${f##*/}"
	done
	if [ -e "$TMP/units/sembark-ingressd.service" ]; then
		sh "$ROOT/scripts/ingress-template.sh" "$TMP/units/sembark-ingressd.service" \
			>"$TMP/units/sembark-ingressd@.service"
	fi
}

# missing_refs UNIT - sembark units UNIT names that systemd/ does not have
missing_refs() {
	local name
	sed -n 's/^\(Wants\|Requires\|After\|Before\|PartOf\|WantedBy\|RequiredBy\|Service\|BindsTo\)=//p' "$1" |
		tr ' ' '\n' | { grep '^sembark' || true; } | sort -u |
		while read -r name; do
			[ -e "$UNITS/$name" ] || echo "names $name, which systemd/ does not have"
		done
}

# exposure FILE - the overall exposure systemd-analyze gives a service
exposure() {
	{ systemd-analyze security --offline=true --no-pager "$1" 2>&1 || true; } |
		sed -n 's/^.*Overall exposure level for [^:]*: \([0-9.]*\).*$/\1/p'
}

# check_unit FILE - verify, cross-references and (services) exposure
check_unit() {
	local f=$1 name=${1##*/} out score="-" verdict=pass
	out=$(cd "$TMP/units" && systemd-analyze verify --man=no --generators=no \
		--recursive-errors=no "$f" 2>&1) || verdict=fail
	out+=$'\n'$(missing_refs "$f")
	[ -n "$(printf '%s' "$out" | sed '/^$/d')" ] && verdict=fail
	local vcol=$verdict
	[ $vcol = pass ] && vcol=ok
	if [[ $name == *.service ]]; then
		score=$(exposure "$f")
		if [ -z "$score" ]; then
			score="?"
			verdict=fail
			out+=$'\n'"systemd-analyze security gave no score"
		elif awk -v s="$score" -v m="$MAX_EXPOSURE" 'BEGIN { exit !(s > m) }'; then
			verdict=fail
			out+=$'\n'"exposure $score is above $MAX_EXPOSURE; see: systemd-analyze security --offline=true systemd/$name"
		fi
	fi
	row "$name" "$vcol" "$score" "$verdict"
	[ -n "$out" ] && printf '%s\n' "$out" | sed '/^$/d' | indent
	return 0
}

# unit_accounts - user and group names the units run as (DynamicUser= aside)
unit_accounts() {
	local f
	for f in "$UNITS"/*.service; do
		grep -q '^DynamicUser=yes' "$f" && continue
		sed -n 's/^\(User\|Group\|SupplementaryGroups\)=//p' "$f"
	done | tr ' ' '\n' | sed '/^$/d' | sort -u
}

# check_sysusers - sysusers.d applies cleanly and creates every account used
check_sysusers() {
	local conf=$UNITS/sysusers.d/sembark.conf out a verdict=pass
	mkdir -p "$TMP/root/etc"
	out=$(systemd-sysusers --root="$TMP/root" "$conf" 2>&1 | grep -v '^Creating ') || true
	for a in $(unit_accounts); do
		grep -q "^$a:" "$TMP/root/etc/passwd" "$TMP/root/etc/group" 2>/dev/null ||
			out+=$'\n'"a unit uses '$a', which sysusers.d/sembark.conf does not create"
	done
	[ -n "$(printf '%s' "$out" | sed '/^$/d')" ] && verdict=fail
	row "sysusers.d/sembark.conf" "$([ $verdict = pass ] && echo ok || echo fail)" "-" "$verdict"
	[ -n "$out" ] && printf '%s\n' "$out" | sed '/^$/d' | indent
	return 0
}

# check_tmpfiles - tmpfiles.d applies cleanly to the scratch root
check_tmpfiles() {
	local conf=$UNITS/tmpfiles.d/sembark.conf out verdict=pass
	out=$(systemd-tmpfiles --root="$TMP/root" --create "$conf" 2>&1) || verdict=fail
	[ -n "$out" ] && verdict=fail
	row "tmpfiles.d/sembark.conf" "$([ $verdict = pass ] && echo ok || echo fail)" "-" "$verdict"
	[ -n "$out" ] && printf '%s\n' "$out" | indent
	return 0
}

# check_config - the sample config must load in a daemon's --check-config
check_config() {
	local out verdict=pass b
	b=$(unit_binaries | grep -v sembarkctl | head -n1)
	# a clean environment: SEMBARK_* variables would override the file
	out=$(env -i PATH="$PATH" "$BUILD/bin/$b" --config "$UNITS/sembark.conf.example" \
		--check-config 2>&1) || verdict=fail
	row "sembark.conf.example" "$([ $verdict = pass ] && echo ok || echo fail)" "-" "$verdict"
	[ $verdict = pass ] || printf '%s\n' "$out" | indent
	return 0
}

# main - the whole check; exit 1 when any file failed
main() {
	local f
	need_tools
	ensure_binaries
	TMP=$(mktemp -d "${TMPDIR:-/tmp}/sembark-units.XXXXXX")
	stage_units

	printf '%-32s %-8s %-9s %s\n' "file" "verify" "exposure" "result"
	for f in "$TMP"/units/*; do
		check_unit "$f"
	done
	check_sysusers
	check_tmpfiles
	check_config

	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ] || exit 1
}

main "$@"
