--[[
  Files jobs of a fair kind, each once: a job whose id is in the queue already, or waiting for
  admission, is not filed again, and a coalescing (user) job merges into the coalescing one its owner
  has not started yet, in the queue (waiting or delayed, not running), among the first of its backlog
  or filed earlier in the same call; while its owner's job runs, it is filed, and BullMQ keeps it for
  after the running one when it is admitted. A coalescing job filed for later is not merged into: one
  added after it is filed, and BullMQ merges the two if both wait in the queue at once. A job due
  now goes to its owner's backlog, and its owner joins the owners with work (join, fair-prelude.lua);
  one due later waits in `later` until a refill finds it due (fair-refill.lua).
  KEYS[1] the kind's specs (fairKey specs)
  KEYS[2] owners with work (fairKey owners)
  KEYS[3] owners at their cap (fairKey parked)
  KEYS[4] backlog sizes (fairKey sizes)
  KEYS[5] the virtual clock (fairKey clock)
  KEYS[6] owners' finish tags (fairKey finish)
  KEYS[7] jobs due later, by due time, as `owner id` (fairKey later)
  ARGV[1] backlog key prefix (fairBacklogKey with an empty owner)
  ARGV[2] the queue's key prefix (queueKey with an empty suffix)
  ARGV[3..] per job, five: job id, spec (JSON: the job's data, when it was added, when it is due, and
  for a user job `c`, 1 when it coalesces, 0 when not),
  owner, 1 to coalesce into the owner's waiting job (else 0), when it is due (ms; 0 for now)
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
-- The owner's first coalescing job among the first few of its backlog (a schedule's run does not
-- coalesce). A user's backlog is short: coalescing keeps one such job, beside the odd run.
local SCAN = 8
local function coalescing_head(owner)
  local ids = redis.call('lrange', ARGV[1] .. owner, 0, SCAN - 1)
  if #ids == 0 then return nil end
  local specs = redis.call('hmget', KEYS[1], unpack(ids))
  for i, id in ipairs(ids) do
    if coalescing_user(specs[i]) then return id end
  end
  return nil
end
local now_jobs, first = {}, {}
for i = 3, #ARGV, 5 do
  local id, spec, owner, due = ARGV[i], ARGV[i + 1], ARGV[i + 2], tonumber(ARGV[i + 4])
  local coalesce = ARGV[i + 3] == '1'
  -- A user's job that has not started: in the queue, in the backlog, or filed by this call.
  local head = coalesce and (unstarted(owner) or coalescing_head(owner) or first[owner])
  if head then
    out[#out + 1] = head
  elseif redis.call('exists', ARGV[2] .. id) == 1 or redis.call('hsetnx', KEYS[1], id, spec) == 0 then
    out[#out + 1] = id
  elseif due > now then
    redis.call('zadd', KEYS[7], due, owner .. ' ' .. id)
    out[#out + 1] = id
  else
    now_jobs[#now_jobs + 1] = owner
    now_jobs[#now_jobs + 1] = id
    if coalesce then first[owner] = first[owner] or id end
    out[#out + 1] = id
  end
end
push({ backlog = ARGV[1], sizes = KEYS[4], owners = KEYS[2], parked = KEYS[3], clock = KEYS[5], finish = KEYS[6] }, now_jobs)
return out
