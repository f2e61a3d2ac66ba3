--[[
  Included (not a command) by the subject-schedule scripts. `base` is KEYS[1] (scheduleBaseKey); a
  schedule id is a number in base 36 and its bucket that number divided by 128, so a bucket's hash
  and sorted set stay small enough for Redis' dense (listpack) encoding. A definition longer than 64
  bytes lives in the `big` hash instead, so one long definition never inflates a bucket.
]]
local base = KEYS[1]
local function bucketOf(id) return tostring(math.floor(tonumber(id, 36) / 128)) end
local function defKey(id) return base .. ':def:' .. bucketOf(id) end
local function dueKey(id) return base .. ':due:' .. bucketOf(id) end
local function getDef(id)
  return redis.call('hget', defKey(id), id) or redis.call('hget', base .. ':big', id)
end
local function putDef(id, def)
  if #def <= 64 then
    redis.call('hset', defKey(id), id, def)
    redis.call('hdel', base .. ':big', id)
  else
    redis.call('hset', base .. ':big', id, def)
    redis.call('hdel', defKey(id), id)
  end
end
-- The bucket's entry in the index: its earliest next run, or none when it has no active schedule.
local function fixBucket(b)
  local first = redis.call('zrange', base .. ':due:' .. b, 0, 0, 'withscores')
  if first[2] then redis.call('zadd', base .. ':buckets', first[2], b)
  else redis.call('zrem', base .. ':buckets', b) end
end
-- Makes the schedule due at `at` (ms, a string) or, with at == '', not due.
local function setDue(id, at)
  if at == '' then
    redis.call('zrem', dueKey(id), id)
  else
    redis.call('zadd', dueKey(id), at, id)
    redis.call('zadd', base .. ':buckets', 'LT', at, bucketOf(id))
  end
end
local function kindOf(def) return string.match(def, '^([^|]*)|') end
local function nameOf(def) return string.match(def, '^[^|]*|[^|]*|[^|]*|([^|]*)|') end
-- What the caller asked for: all but when the schedule was made and its state letter (a count asked
-- for is compared with the runs left: the same request after runs is a new count).
local function asked(def)
  local head, left, tail = string.match(def, '^([^|]*|[^|]*|[^|]*|[^|]*|[^|]*)|[^|]*|%a(%d*)|(.*)$')
  return (head or def) .. '|' .. (left or '') .. '|' .. (tail or '')
end
