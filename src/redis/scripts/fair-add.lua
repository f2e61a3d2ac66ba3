--[[
  Files jobs of a fair kind in their owners' backlogs, each once: a job whose id is in the queue
  already, or waiting for admission, is not filed again, and a coalescing (user) job merges into the
  one its owner has not started yet, in the queue or in the backlog. An owner that had no work joins at the virtual clock, so
  its first job is among the next admitted.
  KEYS[1] the kind's specs (fairKey specs)
  KEYS[2] owners with work (fairKey owners)
  KEYS[3] owners at their cap (fairKey parked)
  KEYS[4] backlog sizes (fairKey sizes)
  KEYS[5] the virtual clock (fairKey clock)
  ARGV[1] backlog key prefix (fairBacklogKey with an empty owner)
  ARGV[2] the queue's key prefix (queueKey with an empty suffix)
  ARGV[3..] per job, four: job id, spec (JSON: the job's data and when it was added), owner, 1 to
  coalesce into the owner's waiting job (else 0)
  Returns per job the id it is: its own, or that of the job it was merged into.
]]
local out = {}
for i = 3, #ARGV, 4 do
  local id, spec, owner = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  local backlog = ARGV[1] .. owner
  -- A user's job that has not started: in the queue (BullMQ's coalescing key, the user id) or here.
  local head = ARGV[i + 3] == '1' and (redis.call('get', ARGV[2] .. 'de:' .. owner) or redis.call('lindex', backlog, 0))
  if head then
    out[#out + 1] = head
  elseif redis.call('exists', ARGV[2] .. id) == 1 or redis.call('hexists', KEYS[1], id) == 1 then
    out[#out + 1] = id
  else
    redis.call('hset', KEYS[1], id, spec)
    redis.call('zadd', KEYS[4], redis.call('rpush', backlog, id), owner)
    if not redis.call('zscore', KEYS[2], owner) and not redis.call('zscore', KEYS[3], owner) then
      redis.call('zadd', KEYS[2], redis.call('get', KEYS[5]) or '0', owner)
    end
    out[#out + 1] = id
  end
end
return out
