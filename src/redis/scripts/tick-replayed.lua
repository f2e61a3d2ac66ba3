--[[
  A dead letter of a tick was replayed: it no longer counts as dead-lettered, and runs again. Only on
  a hash that still exists: an expired tick's counts are not brought back as negatives.
  KEYS[1] the tick's job counts (tickJobsKey)
  No ARGV.
  Returns 1 when the hash existed, 0 otherwise.
]]
if redis.call('exists', KEYS[1]) == 0 then return 0 end
if tonumber(redis.call('hget', KEYS[1], 'deadLettered') or '0') > 0 then redis.call('hincrby', KEYS[1], 'deadLettered', -1) end
redis.call('hdel', KEYS[1], 'state', 'reason', 'attempt', 'attempts', 'at')
return 1
