#!/bin/sh
# ingress-template.sh - make the template unit sembark-ingressd@.service
# from sembark-ingressd.service, so the two never drift apart.
#
#   sh scripts/ingress-template.sh systemd/sembark-ingressd.service >OUT
#
# Instances (sembark-ingressd@2.service, @3, ...) have the same sandbox,
# credentials and order as sembark-ingressd.service and accept on the same
# socket: Sockets=sembark-ingressd.socket hands each instance that socket's
# descriptor (sd_listen_fds, name "http"), and the kernel gives each new
# connection to one of the processes accepting on it (not the metrics
# socket: sembark-ingressd.service serves that alone). Used by
# scripts/check-units.sh (make check-units) and debian/rules.
set -eu

unit=${1:?usage: ingress-template.sh sembark-ingressd.service}
grep -q '^Description=sembark HTTP ingress$' "$unit" && grep -q '^\[Service\]$' "$unit" || {
	echo "ingress-template: $unit has no Description=sembark HTTP ingress or [Service]" >&2
	exit 1
}

cat <<'HEAD'
# sembark-ingressd@.service - more sembark-ingressd processes on the one
# listening socket of sembark-ingressd.socket (Sockets=): start instances
# with `systemctl enable --now sembark-ingressd@2.service` (any instance
# name); each accepts on the same socket as sembark-ingressd.service.
# Made by scripts/ingress-template.sh from sembark-ingressd.service, whose
# description follows. See docs/deploy-systemd.md.
#
HEAD
sed -e '/^Sockets=/d' \
	-e 's/^Description=sembark HTTP ingress$/Description=sembark HTTP ingress, instance %i/' \
	-e 's/^\[Service\]$/[Service]\nSockets=sembark-ingressd.socket/' \
	-e 's/^# sembark-ingressd\.service - /# sembark-ingressd.service: /' "$unit"
