--[[
  Extends a user key while it is still this run's.
  KEYS[1] user key (exclusiveUserKey)
  ARGV[1] the run's token
  ARGV[2] lease ttl (ms)
  Returns 1 when the key was still this run's and is extended, 0 when it lapsed or is another's.
]]
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end return 0
