--[[
  Files one job of a fair kind in its owner's backlog, once: a job whose id is in the queue already,
  or waiting for admission, is not filed again, and a coalescing (user) job merges into the one its
  owner has waiting in the backlog. An owner that had no work joins at the virtual clock, so its
  first job is among the next admitted.
  KEYS[1] the kind's specs (fairKey specs)
  KEYS[2] owners with work (fairKey owners)
  KEYS[3] owners at their cap (fairKey parked)
  KEYS[4] backlog sizes (fairKey sizes)
  KEYS[5] the virtual clock (fairKey clock)
  KEYS[6] the owner's backlog (fairBacklogKey)
  KEYS[7] the job's hash in the queue (queueKey <queue> <jobId>)
  ARGV[1] job id
  ARGV[2] spec (JSON: the job's data and when it was added)
  ARGV[3] owner
  ARGV[4] 1: coalesce into the owner's waiting job
  Returns {1, id} when filed, {0, id} with the job it already is (or was merged into) when not.
]]
local id, owner = ARGV[1], ARGV[3]
if redis.call('exists', KEYS[7]) == 1 or redis.call('hexists', KEYS[1], id) == 1 then return {0, id} end
if ARGV[4] == '1' then
  local head = redis.call('lindex', KEYS[6], 0)
  if head then return {0, head} end
end
redis.call('hset', KEYS[1], id, ARGV[2])
redis.call('zadd', KEYS[4], redis.call('rpush', KEYS[6], id), owner)
if not redis.call('zscore', KEYS[2], owner) and not redis.call('zscore', KEYS[3], owner) then
  redis.call('zadd', KEYS[2], redis.call('get', KEYS[5]) or '0', owner)
end
return {1, id}
