--[[
  Puts back schedules set aside because a producer did not know their kind or trigger, now that one
  does: due again at the time they were set aside, so the kind's catch-up decides about the run.
  KEYS[1] scheduleBaseKey
  ARGV[1..] ids
  Returns how many were put back.
]]
--- @include "sched-prelude"
local n = 0
for _, id in ipairs(ARGV) do
  local at = redis.call('zscore', base .. ':parked', id)
  if at then
    redis.call('zrem', base .. ':parked', id)
    if getDef(id) then
      setDue(id, at)
      n = n + 1
    end
  end
end
return n
