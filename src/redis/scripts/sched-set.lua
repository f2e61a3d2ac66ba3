--[[
  Changes or removes one subject schedule, only if its definition is still the one the caller read
  (pause, resume, remove), so a change never undoes a run or an upsert that came in between.
  KEYS[1] scheduleBaseKey
  ARGV[1] id
  ARGV[2] the definition as read
  ARGV[3] the new definition, or '' to remove the schedule
  ARGV[4] next run (ms), or '' when not due
  ARGV[5] subject shard; ARGV[6] `<kind>:<subject>` (for a removal)
  ARGV[7] longest definition kept dense
  Returns 1, or 0 when the definition changed meanwhile.
]]
--- @include "sched-prelude"
local id = ARGV[1]
if getDef(id) ~= ARGV[2] then return 0 end
if ARGV[3] == '' then
  delDef(id)
  local subjectKey = base .. ':subject:' .. ARGV[5]
  local kept = {}
  for other in string.gmatch(redis.call('hget', subjectKey, ARGV[6]) or '', '[^,]+') do
    if other ~= id then kept[#kept + 1] = other end
  end
  if #kept == 0 then redis.call('hdel', subjectKey, ARGV[6])
  else redis.call('hset', subjectKey, ARGV[6], table.concat(kept, ',')) end
  redis.call('hincrby', base .. ':counts', kindOf(ARGV[2]), -1)
  return 1
end
putDef(id, ARGV[3], tonumber(ARGV[7]))
setDue(id, ARGV[4])
return 1
