#!/bin/sh
# build-web.sh - the browser client as ingressd serves it, from web/.
#
#   sh scripts/build-web.sh SRC OUT VERSION     (make does: web build/web $(VERSION))
#
# OUT/index.html is SRC/index.html with "@VERSION@" replaced by VERSION and
# every "/assets/" by "/assets/<digest>/"; OUT/assets/<digest>/ holds a copy
# of SRC/assets/. <digest> is the first 12 hex digits of the SHA-256 of
# every asset's relative name and content, so a changed file gets a new URL
# and ingressd may let browsers cache assets for a year (web/README.md).
# The same sources give the same OUT, byte for byte. OUT is built beside
# and moved into place, so a half-built client is never served.
set -eu

src=$1
out=$2
version=$3

case $version in
'' | *[!0-9A-Za-z.+~-]*) echo "build-web: bad version '$version'" >&2; exit 2 ;;
esac
[ -f "$src/index.html" ] && [ -d "$src/assets" ] || {
	echo "build-web: $src needs index.html and assets/" >&2
	exit 1
}

digest=$(
	cd "$src/assets"
	find . -type f ! -name '.*' | LC_ALL=C sort | while IFS= read -r f; do
		printf '%s\n' "$f"
		cat "$f"
	done | sha256sum | cut -c1-12
)

mkdir -p "$(dirname "$out")"
tmp=$(mktemp -d "$out.tmp.XXXXXX")
tmp=$(cd "$tmp" && pwd)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/assets/$digest"
(
	cd "$src/assets"
	find . -type f ! -name '.*' | LC_ALL=C sort | while IFS= read -r f; do
		mkdir -p "$tmp/assets/$digest/$(dirname "$f")"
		cp "$f" "$tmp/assets/$digest/$f" || exit 1
	done
) || exit 1
sed -e "s|@VERSION@|$version|g" -e "s|\"/assets/|\"/assets/$digest/|g" \
	"$src/index.html" >"$tmp/index.html"
find "$tmp" -type d -exec chmod 0755 {} +
find "$tmp" -type f -exec chmod 0644 {} +
rm -rf "$out"
mv "$tmp" "$out"
trap - EXIT
