-- wrk script against wechat-sim's control API: mints single-use login codes, as wx.login would
-- on the phones of BENCH_EXISTING_USERS users (bench-ex-0 … bench-ex-N-1, default 200), in turn,
-- and writes one code a line to BENCH_CODES_OUT. Used by the login-existing scenario of
-- bench/wrk.lua (scripts/bench-common.sh: mint_login_codes); run with one thread.

local users = tonumber(os.getenv("BENCH_EXISTING_USERS") or "200")
local out = assert(io.open(assert(os.getenv("BENCH_CODES_OUT"), "BENCH_CODES_OUT is required"), "w"))
local json = { ["content-type"] = "application/json" }
local n = 0

function request()
  n = n + 1
  return wrk.format("POST", "/__sim/login-codes", json, '{"user":"bench-ex-' .. (n % users) .. '"}')
end

function response(status, headers, body)
  local code = status == 200 and body:match('"code":"([^"]+)"')
  if code then out:write(code, "\n") end
end

function done()
  out:close()
end
