--[[
  Reads the subject schedules due by a horizon, bucket by bucket, with their definitions and shared
  triggers; a bucket found with nothing due gets its exact earliest run back in the index.
  KEYS[1] scheduleBaseKey
  ARGV[1] horizon (ms): now plus the execution window
  ARGV[2] most buckets to read; ARGV[3] most schedules per bucket
  Returns a flat list of 4 values per schedule: id, next run (ms), definition, shared trigger text
  (or ''). An id due without a definition leaves the index.
]]
--- @include "sched-prelude"
local out = {}
local buckets = redis.call('zrangebyscore', base .. ':buckets', '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
for _, b in ipairs(buckets) do
  local due = redis.call('zrangebyscore', base .. ':due:' .. b, '-inf', ARGV[1], 'WITHSCORES', 'LIMIT', 0, tonumber(ARGV[3]))
  if #due == 0 then fixBucket(b) end
  for j = 1, #due, 2 do
    local id = due[j]
    local def = getDef(id)
    if not def then
      -- Removal deletes both, so this is an index entry left by a fault: it goes.
      redis.call('zrem', base .. ':due:' .. b, id)
    else
      local rule = ''
      local ref = string.match(def, '^[^|]*|[^|]*|[^|]*|[^|]*|#([^|]*)|')
      if ref then rule = redis.call('hget', base .. ':rules', ref) or '' end
      out[#out + 1] = id
      out[#out + 1] = due[j + 1]
      out[#out + 1] = def
      out[#out + 1] = rule
    end
  end
end
return out
