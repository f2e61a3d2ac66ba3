--[[
  Run in the transaction that adds admitted jobs to the queue, after the adds: each job now in the
  queue, or merged by BullMQ into its user's job there, leaves the admitting set and its spec goes.
  A job merged into a waiting job never starts, so the hold its admission took under an owner cap
  is let go here; kept, it would keep the user one place short of the cap until its lease ran out.
  One BullMQ keeps to run after the user's running job (under its own id) keeps its hold, which its
  start takes over. One the queue refused stays, and is admitted again after the grace
  (fair-refill.lua).
  KEYS[1] specs   KEYS[2] admitting   KEYS[3] held   KEYS[4] holds   KEYS[5] owners   KEYS[6] parked
  KEYS[7] clock   KEYS[8] cap (all fairKey)
  ARGV[1] the queue's key prefix (queueKey with an empty suffix)
  ARGV[2] this process's owner cap, 0 for none: the one the workers recorded (KEYS[8]) rules
  ARGV[3..] job ids
  Returns how many were acknowledged.
]]
--- @include "fair-prelude"
local cap = tonumber(redis.call('get', KEYS[8]) or ARGV[2])
local done = {}
-- A user job BullMQ merged into the user's job already in the queue (or kept for after the running
-- one) was not added under its own id, but is done with all the same. Its user, or nil; and whether
-- it was kept to run later.
local function merged(id)
  local user = coalescing_user(redis.call('hget', KEYS[1], id))
  if not user then return nil end
  local into = redis.call('get', ARGV[1] .. 'de:' .. user)
  if into == false or into == id or redis.call('exists', ARGV[1] .. into) == 0 then return nil end
  return user, redis.call('hget', ARGV[1] .. 'dn:' .. user, 'jid') == id
end
for i = 3, #ARGV do
  local id = ARGV[i]
  if redis.call('exists', ARGV[1] .. id) == 1 then
    done[#done + 1] = id
  else
    local user, later = merged(id)
    if user then
      done[#done + 1] = id
      if not later then let_go(KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], cap, user .. ' ' .. id) end
    end
  end
end
if #done > 0 then
  redis.call('zrem', KEYS[2], unpack(done))
  redis.call('hdel', KEYS[1], unpack(done))
end
return #done
