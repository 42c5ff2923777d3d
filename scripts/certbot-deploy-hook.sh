#!/usr/bin/env bash
# certbot-deploy-hook.sh - put a renewed certificate and key where
# sembark-ingressd reads them, then have every running ingressd use them
# for new connections without a restart (docs/deploy-systemd.md,
# "Certificate renewal").
#
#   certbot certonly ... --deploy-hook /path/to/certbot-deploy-hook.sh
#   certbot-deploy-hook.sh [--install-only] [LINEAGE_DIR]
#
# certbot runs it after each renewal of the certificate it was given for,
# with RENEWED_LINEAGE=/etc/letsencrypt/live/<name> (fullchain.pem,
# privkey.pem); by hand, name that directory as the argument.
#
#  1. The new pair is checked first (openssl): the chain parses, the
#     certificate has not expired, the key matches it. A bad pair changes
#     nothing (exit 1): ingressd would refuse it too, but a restart with it
#     would not come up.
#  2. The chain goes to $SEMBARK_TLS_DIR/fullchain.pem (root, 0644).
#  3. The key: when the credential file $SEMBARK_CREDSTORE/sembark-tls-key
#     exists, that is where ingressd's key comes from. systemd copies a
#     credential when the service starts, never on reload, so the same key
#     (certbot --reuse-key) needs only a reload, and a new key is written to
#     the credential (root, 0600) and needs a restart. Without the credential
#     the key goes to $SEMBARK_TLS_DIR/privkey.pem owned by
#     $SEMBARK_TLS_KEY_OWNER, mode 0600 (ingressd reads it again as that
#     user, and refuses a key file readable by group or others): a reload.
#  4. Every active sembark-ingressd.service and sembark-ingressd@N.service
#     is reloaded (SIGHUP), or restarted one at a time when the credential
#     changed (sembark-ingressd.socket keeps the port bound meanwhile).
#     --install-only stops after 3 (something else signals ingressd).
#
# Files are replaced by rename, so ingressd never reads half of one. After
# a reload, `journalctl -u 'sembark-ingressd*' -g 'tls '` shows "tls
# certificate reloaded" with the new notAfter and fingerprint, or "tls
# reload failed" with the reason (the old certificate then stays in use).
#
# Environment: SEMBARK_TLS_DIR (default /etc/sembark/tls), SEMBARK_CREDSTORE
# (/etc/credstore), SEMBARK_TLS_KEY_OWNER (sembark-ingress), the file owner
# of the key; its group is that user's primary group.
set -euo pipefail

TLS_DIR=${SEMBARK_TLS_DIR:-/etc/sembark/tls}
CREDSTORE=${SEMBARK_CREDSTORE:-/etc/credstore}
KEY_OWNER=${SEMBARK_TLS_KEY_OWNER:-sembark-ingress}
CREDENTIAL=$CREDSTORE/sembark-tls-key
TMP_FILES=()
ACTION=reload

die() {
	echo "sembark deploy hook: $*" >&2
	exit 1
}

say() {
	echo "sembark deploy hook: $*" >&2
}

cleanup() {
	local f
	for f in "${TMP_FILES[@]}"; do rm -f "$f"; done
}
trap cleanup EXIT

# check_pair CERT KEY - the chain parses, has not expired, and KEY is its key
check_pair() {
	local cert_pub key_pub
	openssl x509 -noout -in "$1" 2>/dev/null || die "$1: not a PEM certificate"
	openssl x509 -noout -checkend 0 -in "$1" >/dev/null 2>&1 ||
		die "$1: the certificate has expired"
	cert_pub=$(openssl x509 -noout -pubkey -in "$1" 2>/dev/null) ||
		die "$1: no public key in the certificate"
	key_pub=$(openssl pkey -pubout -in "$2" 2>/dev/null) || die "$2: not a PEM private key"
	[ "$cert_pub" = "$key_pub" ] || die "$2 does not match the certificate $1"
}

# put SRC DST MODE OWNER GROUP - replace DST by a copy of SRC at once; the
# copy is made 0600 root (mktemp) and given its owner and mode before the rename
put() {
	local tmp
	tmp=$(mktemp "$2.XXXXXX")
	TMP_FILES+=("$tmp")
	cat "$1" >"$tmp"
	chown "$4:$5" "$tmp"
	chmod "$3" "$tmp"
	mv -f "$tmp" "$2"
}

# install_key KEY - sets ACTION to what ingressd needs to use KEY: reload or restart
install_key() {
	local group
	ACTION=reload
	if [ -e "$CREDENTIAL" ]; then
		cmp -s "$1" "$CREDENTIAL" && return
		put "$1" "$CREDENTIAL" 0600 root root
		say "new key written to the credential $CREDENTIAL: ingressd restarts to read it"
		ACTION=restart
		return
	fi
	group=$(id -gn "$KEY_OWNER") || die "no user $KEY_OWNER to own the key"
	put "$1" "$TLS_DIR/privkey.pem" 0600 "$KEY_OWNER" "$group"
}

# ingress_units - the active sembark-ingressd units, one a line
ingress_units() {
	systemctl list-units --type=service --state=active --no-legend --plain \
		'sembark-ingressd.service' 'sembark-ingressd@*.service' | awk '{ print $1 }'
}

# apply ACTION - reload (or restart, one at a time) every active ingressd
apply() {
	local units u
	units=$(ingress_units) || die "cannot list the sembark-ingressd units (systemctl)"
	if [ -z "$units" ]; then
		say "no sembark-ingressd unit is active: the files are in place for its next start"
		return
	fi
	for u in $units; do
		systemctl "$1" "$u" || die "systemctl $1 $u failed"
		say "$1ed $u"
	done
}

main() {
	local install_only=0 lineage
	if [ "${1:-}" = --install-only ]; then
		install_only=1
		shift
	fi
	lineage=${1:-${RENEWED_LINEAGE:-}}
	[ -n "$lineage" ] || die "no certificate directory: set RENEWED_LINEAGE (certbot does) or name it"
	if [ ! -r "$lineage/fullchain.pem" ] || [ ! -r "$lineage/privkey.pem" ]; then
		die "$lineage: no readable fullchain.pem and privkey.pem"
	fi
	command -v openssl >/dev/null 2>&1 || die "openssl not found (Debian package openssl)"
	[ "$(id -u)" -eq 0 ] || [ "$KEY_OWNER" = "$(id -un)" ] ||
		die "run as root (it sets the key's owner)"

	check_pair "$lineage/fullchain.pem" "$lineage/privkey.pem"
	mkdir -p "$TLS_DIR"
	chmod 0755 "$TLS_DIR" # the service user passes through to its key
	put "$lineage/fullchain.pem" "$TLS_DIR/fullchain.pem" 0644 "$(id -un)" "$(id -gn)"
	install_key "$lineage/privkey.pem"
	say "installed $TLS_DIR/fullchain.pem ($(openssl x509 -noout -enddate -in "$TLS_DIR/fullchain.pem"))"
	if [ "$install_only" -eq 1 ]; then
		say "--install-only: ingressd needs a $ACTION to use them"
		return
	fi
	apply "$ACTION"
}

main "$@"
