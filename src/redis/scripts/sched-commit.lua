--[[
  Takes runs of subject schedules: for each, only if the schedule is still due at the time the caller
  read and its definition unchanged, stores its next run (or none, or parks it) and new definition and
  records the run as pending (added as a job, not started). Two producers reading the same run: one
  takes it, the other gets 0, so each run becomes one job.
  KEYS[1] scheduleBaseKey
  ARGV[1] now (ms); ARGV[2] longest definition kept dense
  ARGV[3..] per run, 7 values: id, its due time as read (ms), definition as read, new definition
    (or '' to keep it), next due time (ms; '' for none; `park` to set it aside at its due time, its
    kind or trigger unknown here), 1 to run it or 0 to skip it, and the time the run stands for (ms:
    the due time, or the latest missed time for a run caught up)
  Returns per run 1 (taken) or 0 (taken by another producer, or changed meanwhile).
]]
--- @include "sched-prelude"
local maxValue = tonumber(ARGV[2])
local out, touched = {}, {}
for i = 3, #ARGV, 7 do
  local id, at, def, newDef, nextAt, run, runAt = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4], ARGV[i + 5], ARGV[i + 6]
  local score = redis.call('zscore', dueKey(id), id)
  if score and tonumber(score) == tonumber(at) and getDef(id) == def then
    if newDef ~= '' then
      -- The first run that spends a count keeps the count asked for (sched-upsert.lua compares it).
      local count = countOf(def)
      if count ~= nil and count ~= '' and countOf(newDef) ~= count then redis.call('hsetnx', askedKey(id), id, count) end
      putDef(id, newDef, maxValue)
    end
    if nextAt == '' then redis.call('zrem', dueKey(id), id)
    elseif nextAt == 'park' then
      redis.call('zrem', dueKey(id), id)
      redis.call('zadd', base .. ':parked', at, id)
    else redis.call('zadd', dueKey(id), nextAt, id) end
    if run == '1' then redis.call('zadd', base .. ':pending', ARGV[1], id .. ':' .. runAt) end
    touched[bucketOf(id)] = true
    out[#out + 1] = 1
  else
    out[#out + 1] = 0
  end
end
for b in pairs(touched) do fixBucket(b) end
return out
