--[[
  Files jobs of a fair kind in their owners' backlogs, each once: a job whose id is in the queue
  already, or waiting for admission, is not filed again, and a coalescing (user) job merges into the
  one its owner has not started yet, in the queue (waiting or delayed, not running) or in the backlog;
  while its owner's job runs, it is filed, and BullMQ keeps it for after the running one when it is
  admitted. An owner that had no work joins at the virtual clock, or at its finish tag when that is
  later (the virtual time after its last admitted job, start-time fair queueing), which is then
  dropped: an owner adding one job at a time gets no more than its weight's share.
  KEYS[1] the kind's specs (fairKey specs)
  KEYS[2] owners with work (fairKey owners)
  KEYS[3] owners at their cap (fairKey parked)
  KEYS[4] backlog sizes (fairKey sizes)
  KEYS[5] the virtual clock (fairKey clock)
  KEYS[6] owners' finish tags (fairKey finish)
  ARGV[1] backlog key prefix (fairBacklogKey with an empty owner)
  ARGV[2] the queue's key prefix (queueKey with an empty suffix)
  ARGV[3..] per job, four: job id, spec (JSON: the job's data and when it was added), owner, 1 to
  coalesce into the owner's waiting job (else 0)
  Returns per job the id it is: its own, or that of the job it was merged into.
]]
--- @include "fair-prelude"
local out = {}
-- The owner's job in the queue (BullMQ's coalescing key, the user id) when it has not started: it
-- exists, is not running (BullMQ keeps the key while it runs) and has not finished.
local function unstarted(owner)
  local id = redis.call('get', ARGV[2] .. 'de:' .. owner)
  if not id or redis.call('hexists', ARGV[2] .. id, 'finishedOn') == 1 or redis.call('exists', ARGV[2] .. id) == 0 then return nil end
  if redis.call('lpos', ARGV[2] .. 'active', id) then return nil end
  return id
end
for i = 3, #ARGV, 4 do
  local id, spec, owner = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  local backlog = ARGV[1] .. owner
  -- A user's job that has not started: in the queue or here.
  local head = ARGV[i + 3] == '1' and (unstarted(owner) or redis.call('lindex', backlog, 0))
  if head then
    out[#out + 1] = head
  elseif redis.call('exists', ARGV[2] .. id) == 1 or redis.call('hexists', KEYS[1], id) == 1 then
    out[#out + 1] = id
  else
    redis.call('hset', KEYS[1], id, spec)
    redis.call('zadd', KEYS[4], redis.call('rpush', backlog, id), owner)
    if not redis.call('zscore', KEYS[2], owner) and not redis.call('zscore', KEYS[3], owner) then
      local at = tonumber(redis.call('get', KEYS[5]) or '0')
      local f = redis.call('zscore', KEYS[6], owner)
      if f then
        at = math.max(at, tonumber(f))
        redis.call('zrem', KEYS[6], owner)
      end
      redis.call('zadd', KEYS[2], num(at), owner)
    end
    out[#out + 1] = id
  end
end
return out
