--[[
  Included (not a command) by the subject-schedule scripts. `base` is KEYS[1] (scheduleBaseKey); a
  schedule id is a number in base 36 and its bucket that number divided by 128, so a bucket's hashes
  and sorted set stay small enough for Redis' dense (listpack) encoding. A definition longer than the
  server keeps dense (hash-max-listpack-value, `maxValue` below) lives in the bucket's `big` hash, so
  one long definition never turns the bucket's main hash into a plain one.
]]
local base = KEYS[1]
local function bucketOf(id) return tostring(math.floor(tonumber(id, 36) / 128)) end
local function defKey(id) return base .. ':def:' .. bucketOf(id) end
-- The count asked for, kept once a run spent one of it (the definition keeps only the runs left).
local function askedKey(id) return base .. ':asked:' .. bucketOf(id) end
local function bigKey(id) return base .. ':big:' .. bucketOf(id) end
local function dueKey(id) return base .. ':due:' .. bucketOf(id) end
local function getDef(id)
  return redis.call('hget', defKey(id), id) or redis.call('hget', bigKey(id), id)
end
local function putDef(id, def, maxValue)
  if #def <= maxValue then
    redis.call('hset', defKey(id), id, def)
    redis.call('hdel', bigKey(id), id)
  else
    redis.call('hset', bigKey(id), id, def)
    redis.call('hdel', defKey(id), id)
  end
end
local function delDef(id)
  redis.call('hdel', defKey(id), id)
  redis.call('hdel', bigKey(id), id)
  redis.call('zrem', dueKey(id), id)
  redis.call('zrem', base .. ':parked', id)
  redis.call('hdel', askedKey(id), id)
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
local function stateOf(def) return string.match(def, '^[^|]*|[^|]*|[^|]*|[^|]*|[^|]*|[^|]*|(%a)') end
-- What the caller asked for: all but when the schedule was made and its state letter, with `count`
-- (the count asked for, when kept: askedKey) for the runs left, so the same request after runs is
-- the same schedule. Without one kept (no run spent any, or a run by an earlier release) the runs
-- left stand for it.
local function asked(def, count)
  local head, left, tail = string.match(def, '^([^|]*|[^|]*|[^|]*|[^|]*|[^|]*)|[^|]*|%a(%d*)|(.*)$')
  return (head or def) .. '|' .. (count or left or '') .. '|' .. (tail or '')
end
-- The runs left in a definition ('' without a count).
local function countOf(def) return string.match(def, '^[^|]*|[^|]*|[^|]*|[^|]*|[^|]*|[^|]*|%a(%d*)|') end
-- Which definition a run was made from: all but the state field (runs left and ended change as it
-- runs; a replacement, even in place, changes the creation second). codec.ts' versionOf is the same.
local function version(def)
  local head, tail = string.match(def, '^([^|]*|[^|]*|[^|]*|[^|]*|[^|]*|[^|]*)|[^|]*|(.*)$')
  return string.sub(redis.sha1hex((head or def) .. '|' .. (tail or '')), 1, 10)
end
