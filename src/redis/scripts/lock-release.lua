--[[
  Releases a lock only while the caller still holds it.
  KEYS[1] the lock (reconcileLockKey)
  ARGV[1] the holder's token
  Returns 1 when released, 0 when the lock had lapsed or is another's.
]]
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end
