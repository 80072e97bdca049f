-- wrk script: PATCH /api/v1/referrals/{id} to "qualified" over distinct referrals of
-- the 1M set, each once, in a scattered order: every request is a real status change
-- (pending -> qualified) with its history row.
--   WRK_KEY        a write API key
--   WRK_REFERRALS  how many referrals the database has (ids 1..N)
--   WRK_THREADS    wrk's -t
local key = os.getenv("WRK_KEY")
local n = tonumber(os.getenv("WRK_REFERRALS") or "1000000")
local threads = tonumber(os.getenv("WRK_THREADS") or "2")
local stride = 999983 -- a prime: i -> i * stride mod n visits every id once
local sent = 0
local index = 0

function setup(thread)
  thread:set("thread_index", index)
  index = index + 1
end

local headers = {
  ["Authorization"] = "Bearer " .. key,
  ["Content-Type"] = "application/json",
}
local body = '{"status":"qualified"}'

function request()
  local i = sent * threads + thread_index
  sent = sent + 1
  local id = (i * stride) % n + 1
  return wrk.format("PATCH", "/api/v1/referrals/" .. id, headers, body)
end
