-- wrk script: GET /api/v1/referrals/{id} (the referral with its history and rewards)
-- for random referrals of the set.
--   WRK_KEY        a read API key
--   WRK_REFERRALS  how many referrals the database has (ids 1..N)
local key = os.getenv("WRK_KEY")
local n = tonumber(os.getenv("WRK_REFERRALS") or "1000000")
local headers = {["Authorization"] = "Bearer " .. key}

function init(args)
  math.randomseed(os.time() + (thread_index or 0))
end

function request()
  return wrk.format("GET", "/api/v1/referrals/" .. math.random(n), headers)
end
