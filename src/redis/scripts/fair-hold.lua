--[[
  Holds (or renews) a capped fair kind's running jobs against their owners' caps: a job not held yet
  (its hold lapsed while it waited, or it runs again after its worker died) counts again.
  KEYS[1] held (fairKey)
  KEYS[2] holds (fairKey)
  ARGV[1] lease (ms)
  ARGV[2..] members `<owner> <jobId>`
  Returns how many were not held before.
]]
--- @include "fair-prelude"
local n = 0
for i = 2, #ARGV do
  local m = ARGV[i]
  if redis.call('zadd', KEYS[1], now + tonumber(ARGV[1]), m) == 1 then
    redis.call('hincrby', KEYS[2], (split(m)), 1)
    n = n + 1
  end
end
return n
