--[[
  Takes occurrences of subject schedules: for each, only if the schedule is still due at the run the
  caller read and its definition unchanged, stores its next run (or none) and new definition and
  records the occurrence as pending (added as a job, not started). Two producers reading the same
  occurrence: one takes it, the other gets 0, so each occurrence becomes one job.
  KEYS[1] scheduleBaseKey
  ARGV[1] now (ms)
  ARGV[2..] per occurrence, 6 values: id, the run as read (ms), definition as read, new definition
    (or '' to keep it), next run (ms, or '' for none), and 1 to run the occurrence or 0 to skip it
  Returns per occurrence 1 (taken) or 0 (taken by another producer, or changed meanwhile).
]]
--- @include "sched-prelude"
local out, touched = {}, {}
for i = 2, #ARGV, 6 do
  local id, at, def, newDef, nextAt, run = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4], ARGV[i + 5]
  local score = redis.call('zscore', dueKey(id), id)
  if score and tonumber(score) == tonumber(at) and getDef(id) == def then
    if newDef ~= '' then putDef(id, newDef) end
    if nextAt == '' then redis.call('zrem', dueKey(id), id)
    else redis.call('zadd', dueKey(id), nextAt, id) end
    if run == '1' then redis.call('zadd', base .. ':pending', ARGV[1], id .. ':' .. at) end
    touched[bucketOf(id)] = true
    out[#out + 1] = 1
  else
    out[#out + 1] = 0
  end
end
for b in pairs(touched) do fixBucket(b) end
return out
