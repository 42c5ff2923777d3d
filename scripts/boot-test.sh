#!/usr/bin/env bash
# boot-test.sh - the Debian package under a real systemd (`make test-boot`;
# not part of `make test`: it downloads a Debian 12 system and takes minutes).
#
#   bash scripts/boot-test.sh DEB
#
# A Debian 12 root file system (debootstrap --variant=minbase with systemd,
# PostgreSQL and curl; made once, kept as build/boot/rootfs.tar) is unpacked
# into a fresh directory and booted with `systemd-nspawn --boot`: systemd 252
# is PID 1 of the container, which shares the host's network (apt reaches the
# mirror; every address the checks use is the container's 127.0.0.1). Then,
# inside it, as docs/deploy-systemd.md says: the package is installed with
# apt, the credentials are made, PostgreSQL gets its pg_hba line,
# `sembarkctl setup` creates the roles and migrates, sembark.target starts.
# Checks, one line each, then `N passed, M failed` alone on the last line:
#   - /healthz answers 200 on port 8080 (sembark-ingressd.socket)
#   - `systemd-analyze security` of each daemon is at most its claimed score
#   - `systemctl kill -s KILL` of each daemon: restarted, /healthz 200 within 5 s
#   - the journal of the sembark units holds no IP address
# The container is powered off and its directory removed at exit.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DEB=${1:?usage: boot-test.sh DEB}
CACHE=$ROOT/build/boot
TAR=$CACHE/rootfs.tar
SUITE=bookworm
MACHINE=sembark-boot-$$
DIR=$(mktemp -d /var/tmp/sembark-boot.XXXXXX)
NSPAWN_PID=
LEADER=
PASSED=0
FAILED=0

say() { printf 'boot-test: %s\n' "$*" >&2; }
check() { # check NAME RESULT(0/1) DETAIL
	if [ "$2" -eq 0 ]; then
		PASSED=$((PASSED + 1))
		printf 'ok    %s %s\n' "$1" "$3"
	else
		FAILED=$((FAILED + 1))
		printf 'FAIL  %s %s\n' "$1" "$3"
	fi
}

cleanup() {
	if [ -n "$LEADER" ] && kill -0 "$LEADER" 2>/dev/null; then
		kill -s SIGRTMIN+4 "$LEADER" 2>/dev/null || true # poweroff
		for _ in $(seq 1 100); do
			kill -0 "$NSPAWN_PID" 2>/dev/null || break
			sleep 0.1
		done
	fi
	if [ -n "$NSPAWN_PID" ]; then
		kill -9 "$NSPAWN_PID" 2>/dev/null || true
	fi
	rm -rf "$DIR"
}
trap cleanup EXIT

# inside CMD... - run a command inside the container (all its namespaces)
inside() {
	nsenter -t "$LEADER" -a -- "$@"
}

mirror() {
	sed -n 's/^URIs: *\(http[^ ]*debian\)$/\1/p; s/^deb \(http[^ ]*debian\) .*/\1/p' \
		/etc/apt/sources.list /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list \
		2>/dev/null | grep -v security | head -n 1
}

make_rootfs() {
	[ -s "$TAR" ] && return 0
	local m tmp
	m=$(mirror)
	[ -n "$m" ] || { say "no Debian mirror in this host's apt sources"; exit 1; }
	tmp=$(mktemp -d /var/tmp/sembark-rootfs.XXXXXX)
	say "debootstrap $SUITE from the host's mirror (once; cached in $TAR)"
	debootstrap --variant=minbase \
		--include=systemd,systemd-sysv,dbus,postgresql,curl,ca-certificates \
		"$SUITE" "$tmp/rootfs" "$m" >"$CACHE/debootstrap.log" 2>&1 ||
		{ tail -n 20 "$CACHE/debootstrap.log" >&2; rm -rf "$tmp"; exit 1; }
	tar -C "$tmp/rootfs" -cf "$TAR.tmp" .
	mv "$TAR.tmp" "$TAR"
	rm -rf "$tmp"
}

boot() {
	mkdir -p "$DIR/rootfs"
	tar -C "$DIR/rootfs" -xf "$TAR"
	echo "$MACHINE" >"$DIR/rootfs/etc/hostname"
	cp "$DEB" "$DIR/rootfs/root/"
	systemd-nspawn -q -D "$DIR/rootfs" --boot --register=no --keep-unit \
		--machine="$MACHINE" >"$CACHE/console.log" 2>&1 </dev/null &
	NSPAWN_PID=$!
	for _ in $(seq 1 100); do
		LEADER=$(pgrep -P "$NSPAWN_PID" | head -n 1 || true)
		[ -n "$LEADER" ] && break
		sleep 0.1
	done
	[ -n "$LEADER" ] || { say "the container did not start"; cat "$CACHE/console.log" >&2; exit 1; }
	# is-system-running --wait: until the boot is over (degraded is fine: no getty here)
	timeout 120 nsenter -t "$LEADER" -a -- systemctl is-system-running --wait >/dev/null 2>&1 || true
	say "booted: $(inside systemctl --version | head -n 1) is PID 1"
}

install_and_start() {
	local deb
	deb=/root/$(basename "$DEB")
	inside sh -c "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $deb" \
		>"$CACHE/apt.log" 2>&1 || { tail -n 20 "$CACHE/apt.log" >&2; exit 1; }
	# shellcheck disable=SC2016 # expanded by the container's shell
	inside sh -c 'umask 077; for n in db-owner-password db-authd-password db-telemetryd-password \
		db-logd-password db-maild-password csrf-key totp-key; do
		[ -s /etc/credstore/sembark-$n ] || head -c 32 /dev/urandom | base64 >/etc/credstore/sembark-$n
	done'
	inside systemctl start postgresql
	# shellcheck disable=SC2016 # expanded by the container's shell
	inside sh -c 'hba=$(ls /etc/postgresql/*/main/pg_hba.conf) &&
		sed -i "0,/^local *all *all/s//local   sembark   sembark_owner,sembark_authd,sembark_telemetryd,sembark_logd,sembark_maild   scram-sha-256\n&/" "$hba" &&
		systemctl reload postgresql'
	# as docs/deploy-systemd.md says: the credentials handed over as to the units
	inside systemd-run --wait --pipe --quiet --service-type=exec \
		-p LoadCredential=db-owner-password:sembark-db-owner-password \
		-p LoadCredential=db-authd-password:sembark-db-authd-password \
		-p LoadCredential=db-telemetryd-password:sembark-db-telemetryd-password \
		-p LoadCredential=db-logd-password:sembark-db-logd-password \
		-p LoadCredential=db-maild-password:sembark-db-maild-password \
		/usr/bin/sembarkctl --config /etc/sembark/sembark.conf setup >"$CACHE/setup.log" 2>&1 ||
		{ cat "$CACHE/setup.log" >&2; exit 1; }
	inside systemctl enable --now sembark.target >/dev/null 2>&1
}

healthz() { # healthz - the status code of /healthz from inside
	inside curl -s -o /dev/null -w '%{http_code}' --max-time 2 http://127.0.0.1:8080/healthz || true
}

wait_healthy() { # wait_healthy SECONDS - 0 when /healthz said 200 in time
	local end=$((SECONDS + $1))
	while [ "$SECONDS" -lt "$end" ]; do
		[ "$(healthz)" = 200 ] && return 0
		sleep 0.2
	done
	return 1
}

wait_active() { # wait_active UNIT SECONDS - 0 when the unit is active (started again) in time
	local end=$((SECONDS + $2))
	while [ "$SECONDS" -lt "$end" ]; do
		inside systemctl is-active --quiet "$1.service" && return 0
		sleep 0.1
	done
	return 1
}

checks() {
	local t0 t1 unit score claimed
	wait_healthy 60
	check "healthz" $? "(GET /healthz on port 8080: $(healthz))"
	for unit in sembark-ingressd sembark-authd sembark-telemetryd sembark-logd sembark-maild; do
		if inside systemctl is-active --quiet "$unit.service"; then
			check "active-$unit" 0 ""
		else
			check "active-$unit" 1 "($(inside systemctl is-active "$unit.service"))"
			inside journalctl -q -o cat -n 15 -u "$unit.service" >&2 || true
		fi
	done
	for unit in sembark-ingressd sembark-authd sembark-telemetryd sembark-logd sembark-maild; do
		claimed=0.3
		[ "$unit" = sembark-maild ] && claimed=1.2
		score=$(inside systemd-analyze security "$unit.service" 2>/dev/null |
			sed -n 's/.*Overall exposure level for .*: \([0-9.]*\).*/\1/p')
		awk -v s="${score:-99}" -v c="$claimed" 'BEGIN { exit !(s <= c) }'
		check "security-$unit" $? "(exposure ${score:-?}, claimed $claimed)"
	done
	for unit in sembark-logd sembark-authd sembark-telemetryd sembark-maild sembark-ingressd; do
		t0=$(date +%s.%N)
		inside systemctl kill -s KILL "$unit.service"
		sleep 0.5
		if wait_active "$unit" 5 && wait_healthy 5; then
			t1=$(date +%s.%N)
			check "restart-$unit" 0 "(healthy again $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s after SIGKILL)"
		else
			check "restart-$unit" 1 "(not healthy within 5 s of SIGKILL: $(inside systemctl is-active "$unit.service"))"
			inside systemctl status --no-pager -n 15 "$unit.service" >&2 || true
		fi
	done
	local ips
	ips=$(inside journalctl -q -o cat -u 'sembark*' | grep -Eo '\b[0-9]{1,3}(\.[0-9]{1,3}){3}\b' | sort -u | tr '\n' ' ' || true)
	[ -z "$ips" ]
	check "journal-without-ip" $? "($(inside journalctl -q -o cat -u 'sembark*' | wc -l) lines${ips:+; found: $ips})"
}

mkdir -p "$CACHE"
[ "$(id -u)" -eq 0 ] || { say "run as root (systemd-nspawn, debootstrap)"; exit 1; }
make_rootfs
boot
install_and_start
checks
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
