--[[
  Holds a capped fair kind's running jobs against their owners' caps, or renews their holds.
  Taking (a job just started): a job not held yet (its hold lapsed while it waited, or it runs again
  after its worker died) counts again. Renewing (every lease/5 while the jobs run here): only holds
  that still exist are extended, and those gone are returned, so the worker stops renewing them: a
  hold let go elsewhere (the job was delayed by its exclusivity group and run by another worker)
  must not come back and count for ever.
  KEYS[1] held (fairKey)
  KEYS[2] holds (fairKey)
  ARGV[1] lease (ms)
  ARGV[2] 'take' or 'renew'
  ARGV[3..] members `<owner> <jobId>`
  Returns, taking: how many were not held before; renewing: the members no longer held.
]]
--- @include "fair-prelude"
local until_ms = now + tonumber(ARGV[1])
if ARGV[2] == 'renew' then
  local gone = {}
  for i = 3, #ARGV do
    if redis.call('zscore', KEYS[1], ARGV[i]) then
      redis.call('zadd', KEYS[1], until_ms, ARGV[i])
    else
      gone[#gone + 1] = ARGV[i]
    end
  end
  return gone
end
local n = 0
for i = 3, #ARGV do
  local m = ARGV[i]
  if redis.call('zadd', KEYS[1], until_ms, m) == 1 then
    redis.call('hincrby', KEYS[2], (split(m)), 1)
    n = n + 1
  end
end
return n
