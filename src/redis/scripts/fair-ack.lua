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
local n = 0
for i = 2, #ARGV do
  if redis.call('exists', ARGV[1] .. ARGV[i]) == 1 then
    redis.call('zrem', KEYS[2], ARGV[i])
    redis.call('hdel', KEYS[1], ARGV[i])
    n = n + 1
  end
end
return n
