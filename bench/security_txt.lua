-- bench/security_txt.lua - GET /.well-known/security.txt: answered by
-- ingressd alone (no IPC, no database), so it measures the HTTP path:
-- parsing, limits, security headers, the event loop.
-- title: GET /.well-known/security.txt
-- ceiling: hello

dofile(os.getenv("BENCH_LIB") .. "/report.lua")

wrk.method = "GET"
wrk.path = "/.well-known/security.txt"
