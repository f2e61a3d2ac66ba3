--[[
  Sets or adds to a field of a job's hash only while the hash exists: a job that is gone is never
  resurrected (a hash left with one field would make BullMQ drop a later add of that id as a
  duplicate).
  KEYS[1] a job's hash (queueKey with the job id)
  ARGV[1] 'set' (HSET) or 'incr' (HINCRBY)
  ARGV[2] field
  ARGV[3] value, or increment
  Returns HSET's or HINCRBY's answer, or false when the hash does not exist.
]]
if redis.call('exists', KEYS[1]) == 0 then return false end
if ARGV[1] == 'incr' then return redis.call('hincrby', KEYS[1], ARGV[2], ARGV[3]) end
return redis.call('hset', KEYS[1], ARGV[2], ARGV[3])
