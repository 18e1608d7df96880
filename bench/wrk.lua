-- wrk script for scripts/bench.sh. One script for every scenario, chosen by environment:
--   BENCH_SCENARIO  hello | helloworld | health | refresh | login-new | login-mix | login-existing |
--                   profile
--   BENCH_TOKEN     a valid token (refresh, profile)
--   BENCH_RUN       a run id, so that "new" users are new in every run
--   BENCH_RETURNING how many returning users login-mix cycles through (default 200)
--   BENCH_CODES     login-existing, profile: a file of single-use login or phone codes, one a line
--                   (bench/mint.lua);
--                   each thread takes every BENCH_THREADS-th line, each code once
--   BENCH_WARMUP    "1" during warm-up: login-mix then logs in returning users only, so that
--                   they all exist before the measured run
-- At the end it prints one line `BENCH_RESULT {json}`; latencies in microseconds.

local scenario = os.getenv("BENCH_SCENARIO") or "health"
local token = os.getenv("BENCH_TOKEN") or ""
local run = os.getenv("BENCH_RUN") or tostring(os.time())
local returning = tonumber(os.getenv("BENCH_RETURNING") or "200")
local warmup = os.getenv("BENCH_WARMUP") == "1"

local json = { ["content-type"] = "application/json" }
local bearer = { ["authorization"] = "Bearer " .. token }
local bearer_json = { ["authorization"] = "Bearer " .. token, ["content-type"] = "application/json" }

local next_id = 0
local thread_count = 0
local thread_list = {}
function setup(thread)
  thread_list[#thread_list + 1] = thread
  thread:set("id", next_id)
  next_id = next_id + 1
  thread_count = next_id
end

function init(args)
  n = 0
  threads = tonumber(os.getenv("BENCH_THREADS") or "1")
  if scenario == "login-existing" or scenario == "profile" then
    codes = {}
    local i = 0
    -- One value: assert also returns its message, which io.lines would take as a read format.
    local file = assert(os.getenv("BENCH_CODES"), scenario .. " needs BENCH_CODES")
    for line in io.lines(file) do
      if i % threads == id then codes[#codes + 1] = line end
      i = i + 1
    end
    ncodes = #codes
  end
end

local function login(code)
  return wrk.format("POST", "/api/wechat/login", json, '{"users_wx_code":"dev:' .. code .. '"}')
end

function request()
  n = n + 1
  if scenario == "hello" then
    return wrk.format("POST", "/hello")
  elseif scenario == "helloworld" then
    return wrk.format("POST", "/api/system/test-helloworld")
  elseif scenario == "health" then
    return wrk.format("POST", "/api/system/health")
  elseif scenario == "refresh" then
    return wrk.format("POST", "/api/wechat/refresh-token", bearer)
  elseif scenario == "login-new" then
    -- A user nobody has seen: a new row after a code2session round trip.
    return login("bench-" .. run .. "-" .. id .. "-" .. n)
  elseif scenario == "login-mix" then
    -- Returning users in turn (each thread its own residue class), so that no two requests in
    -- flight carry the same code: with BAI_GUARD_TTL=0 they would still race for one guard row.
    if not warmup and n % 10 == 0 then
      return login("bench-" .. run .. "-m" .. id .. "-" .. n)
    end
    k = (k or 0) + 1
    return login("bench-ret-" .. ((id + threads * k) % returning))
  elseif scenario == "login-existing" then
    -- A registered user with a fresh single-use code: a code2session round trip, a new guard
    -- row, a lookup, no insert. Past the last code they come round again, and WeChat (the
    -- simulator) refuses a used code: 400s in the errors column mean too few were minted.
    return wrk.format("POST", "/api/wechat/login", json,
      '{"users_wx_code":"' .. codes[(n - 1) % #codes + 1] .. '"}')
  elseif scenario == "profile" then
    -- A fresh single-use phone code each time, minted at the simulator for the token's user
    -- (bench/mint.lua): the access token (cached), the phone-number exchange, an update.
    return wrk.format("POST", "/api/wechat/profile", bearer_json,
      '{"users_name":"压测用户","users_phone_code":"' .. codes[(n - 1) % #codes + 1] ..
      '","users_picture":"https://example.com/a.png"}')
  end
  error("unknown BENCH_SCENARIO " .. scenario)
end

function done(summary, latency, requests)
  for _, t in ipairs(thread_list) do
    local sent, minted = t:get("n"), t:get("ncodes")
    if minted and sent > minted then
      io.stderr:write(string.format("wrk.lua: %d requests but %d minted codes: used codes were sent again\n",
        sent, minted))
    end
  end
  local e = summary.errors
  local errors = e.connect + e.read + e.write + e.status + e.timeout
  io.write(string.format(
    'BENCH_RESULT {"requests":%d,"duration_us":%d,"rps":%.1f,"p50":%d,"p90":%d,"p99":%d,"max":%d,' ..
    '"errors":%d,"status_errors":%d,"socket_errors":%d}\n',
    summary.requests, summary.duration, summary.requests / (summary.duration / 1e6),
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    errors, e.status, e.connect + e.read + e.write + e.timeout))
end
