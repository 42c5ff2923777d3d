# var.sh - sourced by pg.sh, run.sh and genconf.sh: where `make run` keeps
# its state (the PostgreSQL cluster, secrets, sockets, logs). Needs ROOT
# (the checkout). Prints nothing on success.
#
# sembark_var_dir - print the physical path of var/ ($SEMBARK_VAR if set),
# creating it. PostgreSQL runs as `postgres`, which must reach it: a
# checkout inside a private home (Debian's /root is 0700) cannot offer
# that, so there var/ is made a link to a directory of this checkout in
# the postgres user's own home, which that user always reaches. The path
# printed is the link's target, so nothing goes through the link.
sembark_var_dir() {
	local var=${SEMBARK_VAR:-$ROOT/var} home real
	if [ "$(id -u)" -eq 0 ] && [ -z "${SEMBARK_VAR:-}" ] && [ ! -e "$var" ] &&
		id postgres >/dev/null 2>&1 && ! runuser -u postgres -- test -x "$ROOT" 2>/dev/null; then
		home=$(getent passwd postgres | cut -d: -f6)
		if [ -n "$home" ] && [ -d "$home" ]; then
			real=$home/sembark-dev/$(printf '%s' "$ROOT" | sha256sum | cut -c1-16)
			mkdir -p "$real"
			chmod 0755 "$home/sembark-dev" "$real"
			ln -s "$real" "$var"
			printf 'var: the postgres user cannot reach %s (a private home?): var/ links to %s\n' \
				"$ROOT" "$real" >&2
		fi
	fi
	mkdir -p "$var"
	(cd -P "$var" && pwd -P)
}
