-- bench/login.lua - POST /api/login as a browser does it: Origin, the CSRF
-- binding cookie and X-XSRF-TOKEN (one pair for the run: the token is
-- stateless), and the right password of one of BENCH_LOGIN_COUNT accounts,
-- in turn. Every answer is a 200 with a new session: authd checks the
-- per-email throttle, verifies the bcrypt hash on its pool ([auth]
-- bcrypt_cost, 12 in `make run`) and inserts the session. Run the stack with
-- SEMBARK_INGRESS_CLIENT_RATE_LIMIT=0, or the per-address limit answers 429
-- after its burst. Few connections: more than the hash threads only queue.
-- Needs BENCH_LOGIN_*: bench/login.sh (bench/accounts.sh login) makes them.
-- title: POST /api/login (bcrypt verify + new session)
-- ceiling: bcrypt
-- connections: 4

dofile(os.getenv("BENCH_LIB") .. "/report.lua")

local prefix = os.getenv("BENCH_LOGIN_PREFIX") or "bench-"
local count = tonumber(os.getenv("BENCH_LOGIN_COUNT") or "1") or 1
local password = os.getenv("BENCH_LOGIN_PASSWORD") or ""
local threads = 0

-- setup - each thread starts at another account
function setup(thread)
	thread:set("tid", threads)
	threads = threads + 1
end

function init(args)
	n = (tid or 0) * 7 -- threads apart, so one account is rarely in flight twice
	wrk.method = "POST"
	wrk.path = "/api/login"
	wrk.headers["Content-Type"] = "application/json"
	wrk.headers["Origin"] = os.getenv("BENCH_LOGIN_ORIGIN") or ""
	wrk.headers["Cookie"] = os.getenv("BENCH_LOGIN_COOKIE") or ""
	wrk.headers["X-XSRF-TOKEN"] = os.getenv("BENCH_LOGIN_XSRF") or ""
end

function request()
	local i = n % count
	n = n + 1
	return wrk.format(nil, nil, nil, string.format('{"email":"%s%d@example.com","password":"%s"}',
		prefix, i, password))
end
