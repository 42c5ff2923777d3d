-- bench/lib/ceiling.lua - wrk against bench/ceiling/hello.c (bench/run.sh's
-- HTTP ceiling): GET / answered "hello". Lives in lib/ so that it is not a
-- benchmark of its own.

dofile(os.getenv("BENCH_LIB") .. "/report.lua")

wrk.method = "GET"
wrk.path = "/"
