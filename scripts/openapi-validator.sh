#!/bin/sh
# openapi-validator.sh - install the OpenAPI validator the tests run
# (tests/openapi/package.json: @seriousme/openapi-schema-validator at an
# exact version, every dependency pinned with its integrity hash in
# tests/openapi/package-lock.json) into build/node with `npm ci`, from the
# registry npm is configured with, unless that exact lock is installed
# already; print the path of its `validate-api` program.
#
#   sh scripts/openapi-validator.sh [DIR]    DIR: default build/node
#
# Fails (exit 1, saying why) when npm is missing or the install fails:
# the test that calls it must fail then, not skip.
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SRC="$ROOT/tests/openapi"
DEST=${1:-"$ROOT/build/node"}
BIN="$DEST/node_modules/.bin/validate-api"

if [ -x "$BIN" ] && cmp -s "$SRC/package-lock.json" "$DEST/package-lock.json"; then
	echo "$BIN"
	exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
	echo "openapi-validator: npm is missing (sh scripts/deps.sh test installs it)" >&2
	exit 1
fi
mkdir -p "$DEST"
cp "$SRC/package.json" "$SRC/package-lock.json" "$DEST/"
# --ignore-scripts: nothing of the packages runs at install time
if ! npm ci --prefix "$DEST" --ignore-scripts --no-audit --no-fund >&2; then
	echo "openapi-validator: npm ci failed (is the npm registry reachable?)" >&2
	exit 1
fi
if [ ! -x "$BIN" ]; then
	echo "openapi-validator: $BIN is missing after npm ci" >&2
	exit 1
fi
echo "$BIN"
