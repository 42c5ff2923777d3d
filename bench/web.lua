-- bench/web.lua - GET / with Accept-Encoding: gzip: the browser client's
-- page, answered by ingressd alone from memory (no disk, no IPC), its
-- gzip copy made at start.
-- title: GET / (the browser client's page, gzip)
-- ceiling: hello

dofile(os.getenv("BENCH_LIB") .. "/report.lua")

wrk.method = "GET"
wrk.path = "/"
wrk.headers["Accept-Encoding"] = "gzip"
