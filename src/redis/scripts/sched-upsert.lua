--[[
  Creates or replaces subject schedules: the same kind, subject and name replace the earlier one.
  KEYS[1] scheduleBaseKey
  ARGV[1] most schedules one kind and subject may hold
  ARGV[2..] per schedule, 7 values: subject shard, `<kind>:<subject>`, kind, name, definition,
    next run (ms, or '' when not due), and `<digest>|<trigger>|<zone>` to share (or '')
  Returns per schedule: its id, `=<id>` when it stands exactly as asked already (left as it is), or
  `!full` when the subject holds the most already.
]]
--- @include "sched-prelude"
local limit = tonumber(ARGV[1])
local out = {}
for i = 2, #ARGV, 7 do
  local shard, field, kind, name, def, at, rule = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4], ARGV[i + 5], ARGV[i + 6]
  local subjectKey = base .. ':subject:' .. shard
  local list = redis.call('hget', subjectKey, field) or ''
  local found, count = nil, 0
  for id in string.gmatch(list, '[^,]+') do
    count = count + 1
    local cur = getDef(id)
    if cur and kindOf(cur) == kind and nameOf(cur) == name then found = id end
  end
  local cur = found and getDef(found)
  if not found and count >= limit then
    out[#out + 1] = '!full'
  elseif cur and asked(cur) == asked(def) then
    -- Asked again exactly as it stands: its runs keep their rhythm and its state (paused, runs left).
    out[#out + 1] = '=' .. found
  else
    if not found then
      local v, digits = redis.call('incr', base .. ':seq'), ''
      repeat
        local d = v % 36
        digits = string.sub('0123456789abcdefghijklmnopqrstuvwxyz', d + 1, d + 1) .. digits
        v = math.floor(v / 36)
      until v == 0
      found = digits
      redis.call('hset', subjectKey, field, list == '' and found or (list .. ',' .. found))
      redis.call('hincrby', base .. ':counts', kind, 1)
    end
    if rule ~= '' then
      local digest, text = string.match(rule, '^([^|]*)|(.*)$')
      redis.call('hsetnx', base .. ':rules', digest, text)
    end
    putDef(found, def)
    setDue(found, at)
    out[#out + 1] = found
  end
end
return out
