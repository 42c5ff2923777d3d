-- bench/me.lua - GET /api/me with a session cookie: ingressd takes the token
-- from the cookie, authd looks the session up by its SHA-256 in PostgreSQL
-- (expiry, idle timeout, last_used_at at most once a minute) and answers
-- the user, team and session; every answer a 200.
-- Needs BENCH_ME_TOKEN: bench/me.sh (bench/accounts.sh me) makes one.
-- title: GET /api/me (session cookie)
-- ceiling: hello

dofile(os.getenv("BENCH_LIB") .. "/report.lua")

wrk.method = "GET"
wrk.path = "/api/me"
wrk.headers["Cookie"] = "sembark_session=" .. (os.getenv("BENCH_ME_TOKEN") or "")
