--[[
  Included (not a command) by the fair admission scripts:
  - `now`: Redis' clock in ms; `num(x)`: a virtual time written without losing digits;
  - `unpark(owners, parked, clock, owner)`: an owner that was at its cap back among the owners with
    work, no earlier than the virtual clock;
  - `join(owners, parked, clock, finish, owner)`: an owner that had no work among them;
  - `push(k, jobs)`: jobs (a flat list: owner, id, owner, id, …) at the ends of their owners'
    backlogs, one ZADD of sizes and one join per owner; `k` holds the keys backlog (prefix), sizes,
    owners, parked, clock, finish;
  - `split(m)`: owner and job id of a `held` or `later` member, `<owner> <jobId>`;
  - `let_go(held, holds, owners, parked, clock, cap, m)`: ends a hold (its owner's count down,
    unparked below the cap), true when it was held;
  - `coalescing_user(spec)`: the user id of a filed spec whose job coalesces per user, else nil.
]]
local t = redis.call('time')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local function num(x) return string.format('%.17g', x) end
local function unpark(owners, parked, clock, owner)
  local tag = redis.call('zscore', parked, owner)
  if not tag then return end
  redis.call('zrem', parked, owner)
  redis.call('zadd', owners, num(math.max(tonumber(tag), tonumber(redis.call('get', clock) or '0'))), owner)
end
-- An owner that had no work joins at the virtual clock, or at its finish tag when that is later (the
-- virtual time after its last admitted job, start-time fair queueing), which is then dropped: an
-- owner adding one job at a time gets no more than its weight's share. One with work, or parked at
-- its cap, keeps its place.
local function join(owners, parked, clock, finish, owner)
  if redis.call('zscore', owners, owner) or redis.call('zscore', parked, owner) then return end
  local at = tonumber(redis.call('get', clock) or '0')
  local f = redis.call('zscore', finish, owner)
  if f then
    at = math.max(at, tonumber(f))
    redis.call('zrem', finish, owner)
  end
  redis.call('zadd', owners, num(at), owner)
end
local function push(k, jobs)
  local filed, order = {}, {}
  for i = 1, #jobs, 2 do
    local owner = jobs[i]
    if not filed[owner] then order[#order + 1] = owner end
    filed[owner] = redis.call('rpush', k.backlog .. owner, jobs[i + 1])
  end
  for _, owner in ipairs(order) do
    redis.call('zadd', k.sizes, filed[owner], owner)
    join(k.owners, k.parked, k.clock, k.finish, owner)
  end
end
local function split(m)
  local at = string.find(m, ' ', 1, true)
  return string.sub(m, 1, at - 1), string.sub(m, at + 1)
end
local function let_go(held, holds, owners, parked, clock, cap, m)
  if redis.call('zrem', held, m) == 0 then return false end
  local owner = split(m)
  local left = redis.call('hincrby', holds, owner, -1)
  if left <= 0 then redis.call('hdel', holds, owner) end
  if left < cap then unpark(owners, parked, clock, owner) end
  return true
end
-- A user job coalesces unless its spec says `c` 0 (a schedule's run); a spec without `c` is from an
-- earlier version, whose user jobs all did (the same rule as fair-admit.ts `coalesces`).
local function coalescing_user(spec)
  local ok, s = pcall(cjson.decode, spec or '')
  if not ok or type(s) ~= 'table' or s.c == 0 or type(s.d) ~= 'table' or type(s.d.userId) ~= 'string' then return nil end
  return s.d.userId
end
