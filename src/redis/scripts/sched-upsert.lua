--[[
  Creates or replaces subject schedules: the same kind, subject and name replace the earlier one.
  A subject full of the kind's schedules makes room by deleting its oldest ended one.
  KEYS[1] scheduleBaseKey
  ARGV[1] most schedules one kind and subject may hold; ARGV[2] longest definition kept dense
  ARGV[3..] per schedule, 9 values: subject shard, `<kind>:<subject>`, kind, name, definition,
    next run (ms, or '' when not due), `<digest>|<trigger>|<zone>` to share (or ''), and where the
    kind's jobs are, to adopt the job of that next run made from a definition it replaces
    (subject/adopt.ts): its job key prefix (or '') and its fair specs key (or '')
  Returns per schedule: its id, `=<id>` when it stands exactly as asked already (left as it is), or
  `!full` when the subject holds the most already, none of them ended.
]]
--- @include "sched-prelude"
local limit, maxValue = tonumber(ARGV[1]), tonumber(ARGV[2])
local out = {}
local function newId()
  local v, digits = redis.call('incr', base .. ':seq'), ''
  repeat
    local d = v % 36
    digits = string.sub('0123456789abcdefghijklmnopqrstuvwxyz', d + 1, d + 1) .. digits
    v = math.floor(v / 36)
  until v == 0
  return digits
end
-- A replacement keeps the run at `at`, whose job the replaced definition made and which has not
-- started: the job becomes the new definition's (its data says so). The producer takes the run for
-- the new definition as usual: its count spent once, and no second job (the id is the run's).
local function adopt(id, old, def, at, jobPrefix, specs)
  local member = id .. ':' .. at
  if at == '' or not redis.call('zscore', base .. ':pending', member) or redis.call('zscore', base .. ':started', member) then
    return
  end
  local jobId = 'sched__' .. id .. '__' .. at
  local from, to = '"sv":"' .. version(old) .. '"', '"sv":"' .. version(def) .. '"'
  local data = redis.call('hget', jobPrefix .. jobId, 'data')
  if data then redis.call('hset', jobPrefix .. jobId, 'data', (string.gsub(data, from, to, 1))) end
  local spec = specs ~= '' and redis.call('hget', specs, jobId)
  if spec then redis.call('hset', specs, jobId, (string.gsub(spec, from, to, 1))) end
end
for i = 3, #ARGV, 9 do
  local shard, field, kind, name, def, at, rule = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4], ARGV[i + 5], ARGV[i + 6]
  local jobPrefix, specs = ARGV[i + 7], ARGV[i + 8]
  local subjectKey = base .. ':subject:' .. shard
  local ids, found, ended = {}, nil, nil
  for id in string.gmatch(redis.call('hget', subjectKey, field) or '', '[^,]+') do
    local cur = getDef(id)
    if cur then
      ids[#ids + 1] = id
      if kindOf(cur) == kind and nameOf(cur) == name then found = id end
      if not ended and stateOf(cur) == 'e' then ended = id end
    end
  end
  local cur = found and getDef(found)
  if not found and #ids >= limit and not ended then
    out[#out + 1] = '!full'
  elseif cur and asked(cur, redis.call('hget', askedKey(found), found) or nil) == asked(def) then
    -- Asked again exactly as it stands: its runs keep their rhythm and its state (paused, runs left).
    out[#out + 1] = '=' .. found
  else
    if not found then
      if #ids >= limit then
        delDef(ended)
        redis.call('hincrby', base .. ':counts', kind, -1)
        for k = #ids, 1, -1 do if ids[k] == ended then table.remove(ids, k) end end
      end
      found = newId()
      ids[#ids + 1] = found
      redis.call('hset', subjectKey, field, table.concat(ids, ','))
      redis.call('hincrby', base .. ':counts', kind, 1)
    end
    if rule ~= '' then
      local digest, text = string.match(rule, '^([^|]*)|(.*)$')
      redis.call('hsetnx', base .. ':rules', digest, text)
    end
    if cur and jobPrefix ~= '' then adopt(found, cur, def, at, jobPrefix, specs) end
    putDef(found, def, maxValue)
    -- A new definition: its count, if any, is all left.
    redis.call('hdel', askedKey(found), found)
    setDue(found, at)
    out[#out + 1] = found
  end
end
return out
