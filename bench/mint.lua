-- wrk script against wechat-sim's control API: mints single-use codes and writes one a line to
-- BENCH_CODES_OUT (scripts/bench-common.sh: mint_codes); run with one thread.
--   BENCH_MINT=login (default): login codes, as wx.login would on the phones of
--     BENCH_EXISTING_USERS users (bench-ex-0 … bench-ex-N-1, default 200), in turn: the
--     login-existing scenario of bench/wrk.lua.
--   BENCH_MINT=phone: phone codes for the bench token's user (bench-token-user), as the
--     getPhoneNumber button would, a different number each: the profile scenario.

local kind = os.getenv("BENCH_MINT") or "login"
local users = tonumber(os.getenv("BENCH_EXISTING_USERS") or "200")
local out = assert(io.open(assert(os.getenv("BENCH_CODES_OUT"), "BENCH_CODES_OUT is required"), "w"))
local json = { ["content-type"] = "application/json" }
local n = 0

function request()
  n = n + 1
  if kind == "phone" then
    return wrk.format("POST", "/__sim/phone-codes", json,
      '{"user":"bench-token-user","phone":"1380013' .. string.format("%04d", n % 10000) .. '"}')
  end
  return wrk.format("POST", "/__sim/login-codes", json, '{"user":"bench-ex-' .. (n % users) .. '"}')
end

function response(status, headers, body)
  local code = status == 200 and body:match('"code":"([^"]+)"')
  if code then out:write(code, "\n") end
end

function done()
  out:close()
end
