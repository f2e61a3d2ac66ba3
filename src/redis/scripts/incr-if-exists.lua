--[[
  HINCRBY only on a hash that exists: corrects a job's count without resurrecting one that is gone
  (a hash left with just the count would make BullMQ drop a later add of that id as a duplicate).
  KEYS[1] a job's hash (queueKey with the job id)
  ARGV[1] field
  ARGV[2] increment
  Returns the new value, or false when the hash does not exist.
]]
if redis.call('exists', KEYS[1]) == 1 then return redis.call('hincrby', KEYS[1], ARGV[1], ARGV[2]) else return false end
