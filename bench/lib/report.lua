-- bench/lib/report.lua - the done() hook every benchmark shares. wrk calls
-- it once, after the run, with the merged statistics of all its threads;
-- it prints one machine-readable line that bench/run.sh turns into a row
-- of the results table. Latencies are in microseconds inside wrk and in
-- milliseconds here; "non2xx" counts answers outside 200-399 (wrk's
-- errors.status), "errors" failed connects, reads, writes and timeouts.

function done(summary, latency, requests)
	local seconds = summary.duration / 1e6
	local e = summary.errors
	io.write(string.format(
		"BENCH_RESULT rps=%.0f p50=%.2f p90=%.2f p99=%.2f max=%.2f requests=%d non2xx=%d errors=%d\n",
		summary.requests / seconds,
		latency:percentile(50) / 1000, latency:percentile(90) / 1000,
		latency:percentile(99) / 1000, latency.max / 1000,
		summary.requests, e.status, e.connect + e.read + e.write + e.timeout))
end
