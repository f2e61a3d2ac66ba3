--[[
  Run in the transaction that adds admitted jobs to the queue, after the adds: each job now in the
  queue leaves the admitting set and its spec goes. One the queue refused stays, and is admitted
  again after the grace (fair-refill.lua).
  KEYS[1] specs (fairKey)
  KEYS[2] admitting (fairKey)
  ARGV[1] the queue's key prefix (queueKey with an empty suffix)
  ARGV[2..] job ids
  Returns how many were acknowledged.
]]
local done = {}
for i = 2, #ARGV do
  if redis.call('exists', ARGV[1] .. ARGV[i]) == 1 then done[#done + 1] = ARGV[i] end
end
if #done > 0 then
  redis.call('zrem', KEYS[2], unpack(done))
  redis.call('hdel', KEYS[1], unpack(done))
end
return #done
