--[[
  Run in the transaction that adds admitted jobs to the queue, after the adds: each job now in the
  queue, or merged by BullMQ into its user's job there, leaves the admitting set and its spec goes.
  One the queue refused stays, and is admitted
  again after the grace (fair-refill.lua).
  KEYS[1] specs (fairKey)
  KEYS[2] admitting (fairKey)
  ARGV[1] the queue's key prefix (queueKey with an empty suffix)
  ARGV[2..] job ids
  Returns how many were acknowledged.
]]
--- @include "fair-prelude"
local done = {}
-- A user job BullMQ merged into the user's job already in the queue (or kept for after the running
-- one) was not added under its own id, but is done with all the same.
local function merged(id)
  local user = coalescing_user(redis.call('hget', KEYS[1], id))
  if not user then return false end
  local into = redis.call('get', ARGV[1] .. 'de:' .. user)
  return into ~= false and into ~= id and redis.call('exists', ARGV[1] .. into) == 1
end
for i = 2, #ARGV do
  if redis.call('exists', ARGV[1] .. ARGV[i]) == 1 or merged(ARGV[i]) then done[#done + 1] = ARGV[i] end
end
if #done > 0 then
  redis.call('zrem', KEYS[2], unpack(done))
  redis.call('hdel', KEYS[1], unpack(done))
end
return #done
