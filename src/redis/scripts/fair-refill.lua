--[[
  One refill of a fair kind's window. Lets go of caps' holds whose lease lapsed and whose job is gone
  or finished (its worker died after it ended); a lapsed hold whose job still waits, runs or is
  retried is extended, so an admitted job counts against its owner's cap however long it waits;
  takes back entries admitting for longer than the grace whose job never reached the queue (their
  admitter died before adding it); then, while the window has room, admits the next job of the owner
  first in virtual time (start-time fair queueing: an owner's next job is stamped with the virtual
  time it became due plus 1/weight for each job of it admitted since), parking owners at their cap.
  An owner's run of jobs before the next owner's turn is taken in one go. An owner whose backlog
  empties leaves its finish tag (its virtual time after its last admitted job) in `finish`, so it
  rejoins no earlier (fair-add.lua) and an owner adding one job at a time keeps to its weight; tags
  the clock has passed say nothing more and are pruned, at most 1,000 a refill.
  Admitted jobs stay in the admitting set, their specs kept, until the add that puts them in the queue
  acknowledges them (fair-ack.lua) in the same transaction.
  KEYS[1] specs   KEYS[2] owners   KEYS[3] parked   KEYS[4] sizes   KEYS[5] clock (all fairKey)
  KEYS[6] admitting   KEYS[7] held   KEYS[8] holds (fairKey)   KEYS[9] weights (ownerWeightsKey)
  KEYS[10] the queue's wait list   KEYS[11] its paused list   KEYS[12] its prioritized set (queueKey)
  KEYS[13] cap: the owner cap the parked set was sorted by   KEYS[14] finish   KEYS[15] later (fairKey)
  ARGV[1] backlog key prefix (fairBacklogKey with an empty owner)
  ARGV[2] the queue's key prefix (queueKey with an empty suffix)
  ARGV[3] window
  ARGV[4] grace (ms)
  ARGV[5] most jobs to hand out
  ARGV[6] owner cap, 0 for none
  ARGV[7] hold lease (ms)
  ARGV[8] jobs in `later` due by this time (ms) go to their owners' backlogs first, at most ARGV[5]:
  now for a refill; for a kind no longer fair, all of them (they are added to the queue delayed)
  ARGV[9] '1' when ARGV[6] rules (a process consuming or draining the kind); '0' from a process that
  only adds jobs: the cap recorded in KEYS[13] then rules when there is one
  ARGV[10] how long an admitting entry takes room in the window (ms; the grace when not given): an
  admitter acknowledges within milliseconds, so older entries are a dead or frozen one's, and holding
  the window for them until the grace would stop the kind for every owner
  Returns {full, id, spec, id, spec, …}: full is 1 when the window ran out of room while owners still
  had work.
]]
--- @include "fair-prelude"
local specs, owners, parked, sizes, clock, admitting, held, holds = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8]
local finish = KEYS[14]
local window, grace, most, cap, lease = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7])
local out = {0}
local recorded = redis.call('get', KEYS[13])
if ARGV[9] == '0' and recorded then cap = tonumber(recorded) end

-- Whether a held job is over: not admitting, not kept by BullMQ to run after its user's running
-- job (no job hash yet), and gone from the queue or finished.
local function over(member)
  local owner, id = split(member)
  if redis.call('zscore', admitting, id) then return false end
  if redis.call('exists', ARGV[2] .. id) == 0 then return redis.call('hget', ARGV[2] .. 'dn:' .. owner, 'jid') ~= id end
  return redis.call('hexists', ARGV[2] .. id, 'finishedOn') == 1
end

if cap > 0 then
  for _, m in ipairs(redis.call('zrangebyscore', held, '-inf', now, 'LIMIT', 0, 1000)) do
    if over(m) then let_go(held, holds, owners, parked, clock, cap, m) else redis.call('zadd', held, now + lease, m) end
  end
end
for _, id in ipairs(redis.call('zrangebyscore', admitting, '-inf', now - grace, 'LIMIT', 0, most)) do
  local spec = redis.call('hget', specs, id)
  if spec and redis.call('exists', ARGV[2] .. id) == 0 then
    redis.call('zadd', admitting, now, id)
    out[#out + 1] = id
    out[#out + 1] = spec
  else
    redis.call('zrem', admitting, id)
    redis.call('hdel', specs, id)
  end
end

-- Jobs due by now (fair-add.lua filed them for later) join their owners' backlogs, in due order.
local due = redis.call('zrangebyscore', KEYS[15], '-inf', ARGV[8] == 'now' and now or ARGV[8], 'LIMIT', 0, most)
if #due > 0 then
  local jobs = {}
  for _, m in ipairs(due) do
    local owner, id = split(m)
    jobs[#jobs + 1] = owner
    jobs[#jobs + 1] = id
  end
  redis.call('zrem', KEYS[15], unpack(due))
  push({ backlog = ARGV[1], sizes = sizes, owners = owners, parked = parked, clock = clock, finish = finish }, jobs)
end

-- The cap changed (raised, lowered, or removed): every parked owner goes back among the owners with
-- work, the loop below parks again those still at the cap; without a cap there are no holds. At most
-- 10,000 owners a refill; the cap is recorded (0 for none) once none is left parked. Changed by the
-- kind's workers; a process that only adds jobs records its own only while none is recorded.
if (ARGV[9] ~= '0' or not recorded) and tonumber(recorded or '0') ~= cap then
  local was = redis.call('zrange', parked, 0, 9999)
  for _, owner in ipairs(was) do unpark(owners, parked, clock, owner) end
  if cap == 0 then redis.call('del', held, holds) end
  if redis.call('zcard', parked) == 0 then redis.call('set', KEYS[13], cap) end
elseif ARGV[9] ~= '0' and not recorded then
  redis.call('set', KEYS[13], cap)
end

local inflight = tonumber(ARGV[10] or '') or grace
local room = window - redis.call('llen', KEYS[10]) - redis.call('llen', KEYS[11]) - redis.call('zcard', KEYS[12])
  - redis.call('zcount', admitting, now - inflight, '+inf')
local handed = (#out - 1) / 2
local last
-- An owner's run: the jobs it gets before the next owner's virtual time comes (one when they tie),
-- taken in one go.
while room > 0 and handed < most do
  local head = redis.call('zrange', owners, 0, 1, 'WITHSCORES')
  if #head == 0 then break end
  local owner, tag = head[1], tonumber(head[2])
  local held_now = cap > 0 and tonumber(redis.call('hget', holds, owner) or '0') or 0
  if cap > 0 and held_now >= cap then
    redis.call('zrem', owners, owner)
    redis.call('zadd', parked, head[2], owner)
  else
    local w = tonumber(redis.call('hget', KEYS[9], owner) or '1')
    local n = math.min(room, most - handed)
    if head[4] then n = math.min(n, math.floor((tonumber(head[4]) - tag) * w) + 1) end
    if cap > 0 then n = math.min(n, cap - held_now) end
    local backlog = ARGV[1] .. owner
    local ids = redis.call('lrange', backlog, 0, n - 1)
    if #ids > 0 then
      redis.call('ltrim', backlog, #ids, -1)
      local found = redis.call('hmget', specs, unpack(ids))
      -- One ZADD of the run's admitting entries (and of its holds), not one per job.
      local entering, holding = {}, {}
      for i, id in ipairs(ids) do
        if found[i] then
          entering[#entering + 1] = now
          entering[#entering + 1] = id
          out[#out + 1] = id
          out[#out + 1] = found[i]
          if cap > 0 then
            holding[#holding + 1] = now + lease
            holding[#holding + 1] = owner .. ' ' .. id
          end
        end
      end
      if #entering > 0 then
        redis.call('zadd', admitting, unpack(entering))
        room = room - #entering / 2
        handed = handed + #entering / 2
      end
      -- Counted only for holds new here: a job filed again under an id whose hold is still leased
      -- (removed on the board, then added again) is the same place, not a second one.
      if #holding > 0 then
        local added = redis.call('zadd', held, unpack(holding))
        if added > 0 then redis.call('hincrby', holds, owner, added) end
      end
      last = tag + (#ids - 1) / w
    end
    local left = redis.call('llen', backlog)
    if left > 0 then
      redis.call('zadd', owners, num(tag + #ids / w), owner)
      redis.call('zadd', sizes, left, owner)
    else
      redis.call('zrem', owners, owner)
      redis.call('zrem', sizes, owner)
      redis.call('zadd', finish, num(tag + #ids / w), owner)
    end
  end
end
if last then redis.call('set', clock, num(last)) end
local passed = redis.call('zrangebyscore', finish, '-inf', redis.call('get', clock) or '0', 'LIMIT', 0, 1000)
if #passed > 0 then redis.call('zrem', finish, unpack(passed)) end
if room <= 0 and redis.call('zcard', owners) > 0 then out[1] = 1 end
return out
