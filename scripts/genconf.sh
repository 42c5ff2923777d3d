#!/usr/bin/env bash
# genconf.sh - write the development config var/sembark.conf for `make run`
# (and tests): every path absolute, under var/ of this checkout
# (SEMBARK_VAR overrides), ingress on 127.0.0.1:$PORT (default 8080).
#
#   PORT=9090 bash scripts/genconf.sh      prints the path it wrote
#
# Rewritten at every run so a new PORT applies; it holds no secret, only
# the paths of the files under var/secrets/ that scripts/pg.sh made.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/var.sh
. "$ROOT/scripts/var.sh"
VAR=$(sembark_var_dir)
PORT=${PORT:-8080}
CONF=$VAR/sembark.conf
BUILD=${BUILD:-build}
case $BUILD in /*) WEB=$BUILD/web ;; *) WEB=$ROOT/$BUILD/web ;; esac

case $PORT in
'' | *[!0-9]*) echo "genconf: PORT must be a number, not '$PORT'" >&2; exit 2 ;;
esac
if [ "$PORT" -lt 1 ] || [ "$PORT" -gt 65535 ]; then
	echo "genconf: PORT must be 1..65535, not $PORT" >&2
	exit 2
fi
for p in "$VAR" "$ROOT"; do
	case $p in
	*[[:space:]\;\#]*) echo "genconf: $p: the path may not hold blanks, ';' or '#'" >&2; exit 1 ;;
	esac
done

mkdir -p "$VAR/run"
tmp=$(mktemp "$CONF.XXXXXX")
cat >"$tmp" <<EOF
# sembark.conf - written by scripts/genconf.sh for \`make run\`; changes are
# lost at the next run (use SEMBARK_<SECTION>_<KEY> environment overrides).

[ingress]
listen = 127.0.0.1:$PORT
public_origin = http://127.0.0.1:$PORT
csrf_key_file = $VAR/secrets/csrf-key
static_dir = $WEB

[auth]
totp_key_file = $VAR/secrets/totp-key

[database]
host = $VAR/run/pg
port = 5432
name = sembark
owner_user = sembark_owner
owner_password_file = $VAR/secrets/db-owner-password
authd_password_file = $VAR/secrets/db-authd-password
telemetryd_password_file = $VAR/secrets/db-telemetryd-password
logd_password_file = $VAR/secrets/db-logd-password
maild_password_file = $VAR/secrets/db-maild-password

[ipc]
authd = ipc://$VAR/run/authd.sock
telemetryd = ipc://$VAR/run/telemetryd.sock
logd = ipc://$VAR/run/logd.sock
log_sink = ipc://$VAR/run/log.sock

[logs]
level = info
EOF
chmod 0644 "$tmp"
mv "$tmp" "$CONF"
printf '%s\n' "$CONF"
