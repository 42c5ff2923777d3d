#!/bin/sh
# deps.sh - install the Debian packages sembark needs, and only those that
# are missing. Idempotent and quick when everything is present, so the
# Makefile calls it before every build.
#
#   sh scripts/deps.sh          build, `make run`, the unit and integration tests
#   sh scripts/deps.sh test     the same, and the browser suite's Chromium,
#                               ChromeDriver and Selenium, Node.js for the
#                               web client's unit tests, h11 for the
#                               differential HTTP tests, npm and jsonschema
#                               for the OpenAPI tests, clang and its libFuzzer
#                               runtime for the fuzz targets, man-db/groff-base
#                               for the man pages' checks (what `make test`
#                               runs), valgrind for `make test-valgrind`,
#                               prometheus for promtool (the metrics test),
#                               aiosmtpd for the mail tests' SMTP relay
#   sh scripts/deps.sh deb      the same as no argument, and the Debian
#                               packaging tools `make deb` runs
#   sh scripts/deps.sh boot     the same as no argument, and debootstrap and
#                               systemd-container (`make test-boot`)
set -eu

PACKAGES="
build-essential pkg-config
libevent-dev libzmq3-dev libmsgpack-dev libpq-dev libsodium-dev
libsystemd-dev libcrypt-dev libjansson-dev libinih-dev libssl-dev zlib1g-dev
libcmocka-dev libqrencode-dev libcurl4-openssl-dev
postgresql
python3 python3-pytest python3-requests python3-psycopg2 python3-zmq python3-msgpack
systemd util-linux procps
wrk curl
"
TEST_PACKAGES="
chromium chromium-driver python3-selenium nodejs
python3-h11 valgrind zbar-tools
npm python3-jsonschema
clang libclang-rt-14-dev
man-db groff-base
prometheus python3-aiosmtpd
"
DEB_PACKAGES="
debhelper dpkg-dev fakeroot lintian
"
BOOT_PACKAGES="
debootstrap systemd-container
"
case ${1:-} in
'') ;;
test) PACKAGES="$PACKAGES $TEST_PACKAGES" ;;
deb) PACKAGES="$PACKAGES $DEB_PACKAGES" ;;
boot) PACKAGES="$PACKAGES $BOOT_PACKAGES" ;;
*) echo "deps: usage: deps.sh [test|deb|boot]" >&2; exit 2 ;;
esac

missing=""
for p in $PACKAGES; do
	# npm: Debian ships it apart from nodejs; a nodejs package that bundles
	# it (and so conflicts with Debian's npm) serves as well
	if [ "$p" = npm ] && command -v npm >/dev/null 2>&1; then
		continue
	fi
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done

[ -z "$missing" ] && exit 0

echo "deps: installing:$missing" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
	if command -v sudo >/dev/null 2>&1; then
		SUDO="sudo"
	else
		echo "deps: missing packages:$missing (run as root or install them)" >&2
		exit 1
	fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
echo "deps: done" >&2
