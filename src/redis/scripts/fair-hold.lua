--[[
  Holds a capped fair kind's running jobs against their owners' caps: a job not held yet (its hold
  lapsed while it waited, a refill without the cap dropped it, or it runs again after its worker
  died) counts again.
  Taking (a job just started, ARGV[2] empty): ARGV[3..] members.
  Renewing (ARGV[2] the queue's key prefix): ARGV[3..] pairs of member and the job's lock token. A
  job whose lock is no longer the worker's is not held again: it was sent back to wait (delayed by
  its exclusivity group, which gives the lock up) or taken over while the worker's event loop was
  blocked, and another worker may have run it and let its hold go already.
  KEYS[1] held (fairKey)
  KEYS[2] holds (fairKey)
  ARGV[1] lease (ms)
  Returns, taking: how many were not held before; renewing: the members whose lock was not theirs.
]]
--- @include "fair-prelude"
local until_ms = now + tonumber(ARGV[1])
local function take(m)
  if redis.call('zadd', KEYS[1], until_ms, m) == 1 then
    redis.call('hincrby', KEYS[2], (split(m)), 1)
    return 1
  end
  return 0
end
if ARGV[2] == '' then
  local n = 0
  for i = 3, #ARGV do n = n + take(ARGV[i]) end
  return n
end
local lost = {}
for i = 3, #ARGV, 2 do
  local m, token = ARGV[i], ARGV[i + 1]
  local _, id = split(m)
  if token ~= '' and redis.call('get', ARGV[2] .. id .. ':lock') ~= token then
    lost[#lost + 1] = m
  else
    take(m)
  end
end
return lost
