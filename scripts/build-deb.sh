#!/usr/bin/env bash
# build-deb.sh - build the Debian package sembark (`make deb`).
#
#   bash scripts/build-deb.sh OUT      (make deb: OUT = build/deb)
#
# dpkg-buildpackage writes its results into the parent of the source
# directory and its own files into debian/, so it runs on a copy of the
# tree's files (tracked, and new ones not ignored: what `git ls-files`
# lists) in OUT/src/sembark-<version>/; the .deb, the -dbgsym .deb and the
# .buildinfo/.changes end up in OUT. Unsigned (-us -uc), binary only (-b).
# Prints the path of the .deb last.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=${1:?usage: build-deb.sh OUT}
case $OUT in /*) ;; *) OUT=$ROOT/$OUT ;; esac

version=$(dpkg-parsechangelog -l "$ROOT/debian/changelog" -S Version)
if [ "$version" != "$(cat "$ROOT/VERSION")" ]; then
	echo "build-deb: debian/changelog is at $version, VERSION at $(cat "$ROOT/VERSION"):" \
		"add a changelog entry (dch -v)" >&2
	exit 1
fi
src=$OUT/src/sembark-$version

rm -rf "$OUT/src"
mkdir -p "$src"
(cd "$ROOT" && git ls-files -z --cached --others --exclude-standard |
	xargs -0 sh -c 'for f; do [ -e "$f" ] || [ -L "$f" ] && printf "%s\0" "$f"; done' sh |
	tar --null -T - -cf -) | tar -xf - -C "$src"

rm -f "$OUT"/sembark_* "$OUT"/sembark-dbgsym_*
(cd "$src" && nice dpkg-buildpackage -us -uc -b)
mv "$OUT"/src/sembark_* "$OUT"/src/sembark-dbgsym_* "$OUT"/
rm -rf "$OUT/src"
ls "$OUT"/sembark_"$version"_*.deb
