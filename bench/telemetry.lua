-- bench/telemetry.lua - POST /api/telemetry/events as a native client
-- (Authorization: Bearer, no cookie, no CSRF): every request is a batch of
-- BENCH_TELEMETRY_BATCH (default 100) new events, each with an id never
-- sent before, so every answer is a 202 whose events were all committed
-- (none is a duplicate). events/s = requests/s x batch size; bench/run.sh
-- prints that, and the raw COPY rate, through bench/telemetry.sh --rates.
-- Needs BENCH_TELEMETRY_TOKEN: bench/telemetry.sh makes a team and a token.
-- title: POST /api/telemetry/events, 100 events a request

dofile(os.getenv("BENCH_LIB") .. "/report.lua")

local token = os.getenv("BENCH_TELEMETRY_TOKEN") or ""
local size = tonumber(os.getenv("BENCH_TELEMETRY_BATCH") or "100") or 100
local run = tonumber(os.getenv("BENCH_TELEMETRY_RUN") or "0") or 0

local threads = 0
local CLIENT = '{"client":{"app_version":"2.4.1","os_version":"macOS 14.5",' ..
	'"display":{"width":2560,"height":1440}},"events":['
local KINDS = {
	'"type":"feature_interaction","attrs":{"feature":"bench.f%d"}',
	'"type":"network_status","attrs":{"online":true}',
	'"type":"connectivity","attrs":{"state":"connected"}',
	'"type":"error","attrs":{"code":"E%d","fatal":false}',
	'"type":"crash","attrs":{}',
}

-- setup - give each thread its own number, so ids never collide
function setup(thread)
	thread:set("tid", threads)
	threads = threads + 1
end

function init(args)
	counter = 0
	tid = tid or 0
	wrk.method = "POST"
	wrk.path = "/api/telemetry/events"
	wrk.headers["Authorization"] = "Bearer " .. token
	wrk.headers["Content-Type"] = "application/json"
end

-- an id: 8-4-4-4-12 hex, unique per (run, thread, counter)
local function uuid(n)
	return string.format("%08x-%04x-4%03x-8000-%012x", run % 0x100000000, tid % 0x10000,
		math.floor(n / 0x1000000000000) % 0x1000, n % 0x1000000000000)
end

function request()
	local now = os.date("!%Y-%m-%dT%H:%M:%SZ")
	local parts = {}
	for i = 1, size do
		counter = counter + 1
		local kind = string.format(KINDS[(counter % #KINDS) + 1], counter % 10)
		parts[i] = '{"id":"' .. uuid(counter) .. '","occurred_at":"' .. now .. '",' .. kind .. '}'
	end
	return wrk.format(nil, nil, nil, CLIENT .. table.concat(parts, ",") .. "]}")
end
