-- ops/bench/rotate.lua — wrk script for the write-path benchmarks: requests that rotate over a
-- file of keys, one line per request, each thread starting at its own place in the file.
--
-- Used by ops/bench/create.sh and ops/bench/rss.sh. Configuration comes from the environment:
--   ROTATE_MODE   "create": POST /v1/keys with "Authorization: Bearer <line>" (lines: admin keys,
--                           as bench_seed --admin-out writes them) and the body CREATE_BODY;
--                           a response counts as good if it is a 201.
--                 "verify": POST /v1/keys/verify with the line as body (bench_seed --sample-out
--                           writes them); good if a 200 whose body holds "valid":true.
--   ROTATE_FILE   the file of lines (required; secrets: keep it 0600 in a private temp dir)
--   CREATE_BODY   create mode's body (default: {"name":"bench","scopes":["monitors:read"],"environment":"live"})
--
-- Every response is checked. done() reports, in one parseable line:
--   rotate.lua: responses=N bad=N statuses=201:N,422:N
-- where bad counts the responses that were not good (wrong status, or for verify a body without
-- "valid":true). The scripts fail a run with any bad response: the numbers would not measure
-- successful creates or verifications.
--
-- Standalone: ROTATE_MODE=verify ROTATE_FILE=sample.txt wrk -t2 -c64 -d10s --latency \
--             -s ops/bench/rotate.lua http://127.0.0.1:8080

local mode = os.getenv("ROTATE_MODE") or ""
if mode ~= "create" and mode ~= "verify" then
  error("rotate.lua: set ROTATE_MODE to create or verify")
end
local file = os.getenv("ROTATE_FILE") or ""
if file == "" then error("rotate.lua: set ROTATE_FILE to the file of keys") end

-- Loaded in every Lua state (the main one and each thread's).
local lines = {}
do
  local f = assert(io.open(file, "rb"))
  for line in f:lines() do
    if line ~= "" then lines[#lines + 1] = line end
  end
  f:close()
end
if #lines == 0 then error("rotate.lua: " .. file .. " holds no line") end

local create_body = os.getenv("CREATE_BODY")
if create_body == nil or create_body == "" then
  create_body = '{"name":"bench","scopes":["monitors:read"],"environment":"live"}'
end

-- setup() and done() run in the main Lua state; init/request/response in each thread's own.
local threads = {}

function setup(thread)
  thread:set("thread_index", #threads)
  table.insert(threads, thread)
end

-- per-thread state (globals of the thread's Lua state, read back through thread:get)
responses = 0
bad = 0
statuses = {}
local next_line = 1

function init(args)
  -- Threads start spread over the file (golden-ratio steps), so they do not send the same keys.
  local t = thread_index or 0
  next_line = 1 + math.floor(t * #lines * 0.618) % #lines
end

function request()
  local line = lines[next_line]
  next_line = next_line % #lines + 1
  if mode == "create" then
    return wrk.format("POST", "/v1/keys", {
      ["Authorization"] = "Bearer " .. line,
      ["Content-Type"] = "application/json",
      ["Accept"] = "application/json",
    }, create_body)
  end
  return wrk.format("POST", "/v1/keys/verify", {
    ["Content-Type"] = "application/json",
    ["Accept"] = "application/json",
  }, line)
end

function response(status, headers, body)
  responses = responses + 1
  statuses[status] = (statuses[status] or 0) + 1
  if mode == "create" then
    if status ~= 201 then bad = bad + 1 end
  elseif status ~= 200 or body == nil or not string.find(body, '"valid":true', 1, true) then
    bad = bad + 1
  end
end

function done(summary, latency, requests)
  local total, total_bad, by_status = 0, 0, {}
  for _, t in ipairs(threads) do
    total = total + (t:get("responses") or 0)
    total_bad = total_bad + (t:get("bad") or 0)
    for code, n in pairs(t:get("statuses") or {}) do
      by_status[code] = (by_status[code] or 0) + n
    end
  end
  local codes = {}
  for code, _ in pairs(by_status) do table.insert(codes, code) end
  table.sort(codes)
  local parts = {}
  for _, code in ipairs(codes) do table.insert(parts, code .. ":" .. by_status[code]) end
  io.write(string.format("rotate.lua: responses=%d bad=%d statuses=%s\n", total, total_bad, table.concat(parts, ",")))
end
