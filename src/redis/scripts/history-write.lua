--[[
  Writes one flush of users' history records (src/services/user-history.ts) in one call: per hash,
  its fields set and its expiry set, and the same users' fields dropped from the period before.
  One script rather than a pipeline: an ioredis pipeline binds every script defined on the
  connection when it is made, which cost more than the writes. A hash Redis refuses (a key of
  another type where the hash should be, or no memory left) is skipped and counted; the others are
  still written.
  KEYS[1..] per hash, two: the hash, the previous period's hash (historyKey)
  ARGV[1..] per hash: when it expires (ms), the number of field/value pairs, then the pairs
  Returns {hashes written, hashes refused, the first refusal's error, hashes written whose period
  before was not cleared (its old records stay until it expires), the first such error}.
]]
-- At most this many field/value pairs to one command, well within Lua's stack for unpack.
local PAIRS = 1000
local STEP = 2 * PAIRS
local written, refused, first, uncleared, first_stale = 0, 0, '', 0, ''

local function refused_by(r) return type(r) == 'table' and r.err end

-- One hash's writes: its fields, then its expiry, then the same users' fields dropped from the
-- period before, so a record is never dropped from the old hash unless written to the new, and a
-- hash written to always expires (also when a later step of its fields is refused). Returns the key
-- Redis refused and its error when the hash was not written; when only the period before was not
-- cleared, nil and that key and error.
local function write(hash, previous, expire_at, from_arg, last)
  local err, wrote
  for from = from_arg, last, STEP do
    local set = {}
    for j = from, math.min(from + STEP - 1, last) do set[#set + 1] = ARGV[j] end
    err = refused_by(redis.pcall('hset', hash, unpack(set)))
    if err then break end
    wrote = true
  end
  if wrote then
    local refused_expiry = refused_by(redis.pcall('pexpireat', hash, expire_at))
    err = err or refused_expiry
  end
  if err then return hash .. ': ' .. err end
  for from = from_arg, last, STEP do
    local users = {}
    for j = from, math.min(from + STEP - 1, last), 2 do users[#users + 1] = ARGV[j] end
    err = refused_by(redis.pcall('hdel', previous, unpack(users)))
    if err then return nil, previous .. ': ' .. err end
  end
  return nil
end

local a = 1
for i = 1, #KEYS, 2 do
  local n = tonumber(ARGV[a + 1])
  local last = a + 1 + 2 * n
  local err, stale = write(KEYS[i], KEYS[i + 1], ARGV[a], a + 2, last)
  if err then
    refused = refused + 1
    if first == '' then first = err end
  else
    written = written + 1
    if stale and first_stale == '' then first_stale = stale end
    if stale then uncleared = uncleared + 1 end
  end
  a = last + 1
end
return { written, refused, first, uncleared, first_stale }
