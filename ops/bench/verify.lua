-- ops/bench/verify.lua — wrk script for the authledger hot path: POST /v1/keys/verify.
--
-- Used by ops/bench/verify.sh for both targets (authledger and the nginx baseline), so both
-- receive exactly the same request. Configuration comes from the environment:
--   VERIFY_BODY        request body (JSON), e.g. {"key":"al_live_...","scope":"monitors:read"}
--   VERIFY_BODY_FILE   or: a file holding the body (used when VERIFY_BODY is empty)
--   VERIFY_PATH        request path            (default: /v1/keys/verify)
--   VERIFY_EXPECT      substring every 200 body must contain (default: "valid":true);
--                      empty = only check the status
--
-- Every response is checked: non-200 statuses and 200 bodies without VERIFY_EXPECT are counted per
-- thread and reported by done() in one parseable line:
--   verify.lua: responses=N non200=N unexpected_body=N statuses=200:N,429:N
--
-- Standalone: VERIFY_BODY='{"key":"...","scope":"monitors:read"}' \
--             wrk -t2 -c64 -d10s --latency -s ops/bench/verify.lua http://127.0.0.1:8080

local body = os.getenv("VERIFY_BODY")
if body == nil or body == "" then
  local file = os.getenv("VERIFY_BODY_FILE")
  if file ~= nil and file ~= "" then
    local f = assert(io.open(file, "rb"))
    body = f:read("*a")
    f:close()
  end
end
if body == nil or body == "" then
  error("verify.lua: set VERIFY_BODY or VERIFY_BODY_FILE to the JSON request body")
end

local expect = os.getenv("VERIFY_EXPECT")
if expect == nil then expect = '"valid":true' end

wrk.method = "POST"
wrk.path = os.getenv("VERIFY_PATH") or "/v1/keys/verify"
wrk.body = body
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Accept"] = "application/json"

-- setup() and done() run in the main Lua state; request/response run in each thread's own state.
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

-- per-thread state (globals of the thread's Lua state, read back through thread:get)
responses = 0
non200 = 0
unexpected_body = 0
statuses = {}

function response(status, headers, resp_body)
  responses = responses + 1
  statuses[status] = (statuses[status] or 0) + 1
  if status ~= 200 then
    non200 = non200 + 1
  elseif expect ~= "" and (resp_body == nil or not string.find(resp_body, expect, 1, true)) then
    unexpected_body = unexpected_body + 1
  end
end

function done(summary, latency, requests)
  local total, bad_status, bad_body, by_status = 0, 0, 0, {}
  for _, t in ipairs(threads) do
    total = total + (t:get("responses") or 0)
    bad_status = bad_status + (t:get("non200") or 0)
    bad_body = bad_body + (t:get("unexpected_body") or 0)
    local st = t:get("statuses") or {}
    for code, n in pairs(st) do
      by_status[code] = (by_status[code] or 0) + n
    end
  end
  local codes = {}
  for code, _ in pairs(by_status) do table.insert(codes, code) end
  table.sort(codes)
  local parts = {}
  for _, code in ipairs(codes) do table.insert(parts, code .. ":" .. by_status[code]) end
  io.write(string.format("verify.lua: responses=%d non200=%d unexpected_body=%d statuses=%s\n",
    total, bad_status, bad_body, table.concat(parts, ",")))
end
