#!/usr/bin/env bash
# accounts.sh - the state the account benchmarks need, made through the
# public API of the stack `make run` serves (bench/run.sh runs bench/login.sh
# and bench/me.sh, which call this, before wrk; every BENCH_<NAME>=value line
# printed goes into wrk's environment).
#
#   bash bench/accounts.sh login   BENCH_LOGIN_*: BENCH_LOGIN_COUNT (16) new
#                                  accounts sharing one password, and one
#                                  browser's CSRF binding cookie + X-XSRF-TOKEN
#                                  (a stateless signed token: every wrk
#                                  connection may send the same pair)
#   bash bench/accounts.sh me      BENCH_ME_TOKEN: the session token of a new
#                                  account (the sembark_session cookie)
#
# Several accounts, because the per-email throttle counts an attempt as a
# failure until its verify succeeds: more than 4 logins in flight for one
# email would be refused (429). Sign-ups count against [ingress]
# client_rate_limit (120 a minute in `make run`): BENCH_LOGIN_COUNT + 1 per run.
# Environment: BASE_URL (http://127.0.0.1:$PORT), PORT (8080),
# BENCH_LOGIN_COUNT, PYTHON (/usr/bin/python3).
set -euo pipefail

PORT=${PORT:-8080}
BASE_URL=${BASE_URL:-http://127.0.0.1:$PORT}
PYTHON=${PYTHON:-/usr/bin/python3}
COUNT=${BENCH_LOGIN_COUNT:-16}

die() {
	echo "bench/accounts: $*" >&2
	exit 1
}

[[ $COUNT =~ ^[0-9]{1,3}$ ]] && [ "$COUNT" -ge 1 ] && [ "$COUNT" -le 100 ] ||
	die "BENCH_LOGIN_COUNT must be 1 to 100, not '$COUNT'"

# signup WHAT - WHAT=login: COUNT accounts; WHAT=me: one, and its token
signup() {
	BASE_URL=$BASE_URL WHAT=$1 COUNT=$COUNT "$PYTHON" - <<'PYEOF'
import os, sys, uuid, urllib.parse
import requests

base, what, count = os.environ["BASE_URL"], os.environ["WHAT"], int(os.environ["COUNT"])
s = requests.Session()
s.trust_env = False


def csrf():
    r = s.get(base + "/api/csrf", timeout=10)
    if r.status_code != 204:
        sys.exit("GET /api/csrf answered %d %s" % (r.status_code, r.text[:200]))
    return urllib.parse.unquote(s.cookies.get("XSRF-TOKEN", ""))


run = uuid.uuid4().hex[:12]
password = "bench password %s" % uuid.uuid4().hex
n = count if what == "login" else 1
for i in range(n):
    s.cookies.clear()
    tok = csrf()
    r = s.post(base + "/api/teams", timeout=60, json={
        "team_name": "bench %s" % what, "name": "Bench", "email": "bench-%s-%d@example.com" % (run, i),
        "password": password}, headers={"Origin": base, "X-XSRF-TOKEN": tok})
    if r.status_code != 201:
        sys.exit("POST /api/teams answered %d %s" % (r.status_code, r.text[:200]))
if what == "me":
    print("BENCH_ME_TOKEN=%s" % s.cookies.get("sembark_session"))
    sys.exit(0)
s.cookies.clear()
tok = csrf()
binding = [c for c in s.cookies if c.name != "XSRF-TOKEN"][0]
print("BENCH_LOGIN_PREFIX=bench-%s-" % run)
print("BENCH_LOGIN_COUNT=%d" % n)
print("BENCH_LOGIN_PASSWORD=%s" % password)
print("BENCH_LOGIN_COOKIE=%s=%s" % (binding.name, binding.value))
print("BENCH_LOGIN_XSRF=%s" % tok)
print("BENCH_LOGIN_ORIGIN=%s" % base)
PYEOF
}

case ${1:-} in
login | me) signup "$1" ;;
*) die "usage: bash bench/accounts.sh login|me" ;;
esac
