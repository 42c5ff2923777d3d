-- bench/healthz.lua - GET /healthz: ingressd pings authd, telemetryd and
-- logd over ZeroMQ, which each ping PostgreSQL; the whole stack's round
-- trip, answered 200 only when every part is up.
-- title: GET /healthz
-- ceiling: hello

dofile(os.getenv("BENCH_LIB") .. "/report.lua")

wrk.method = "GET"
wrk.path = "/healthz"
