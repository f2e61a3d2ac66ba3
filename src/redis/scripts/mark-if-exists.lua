--[[
  HSET only on a hash that exists: marks a job without resurrecting one that is gone.
  KEYS[1] a job's hash (queueKey with the job id)
  ARGV[1] field
  ARGV[2] value
  Returns HSET's answer, or 0 when the hash does not exist.
]]
if redis.call('exists', KEYS[1]) == 1 then return redis.call('hset', KEYS[1], ARGV[1], ARGV[2]) else return 0 end
