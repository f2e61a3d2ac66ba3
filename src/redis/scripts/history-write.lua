--[[
  Writes one flush of users' history records (src/services/user-history.ts) in one call: per hash,
  its fields set and its expiry set, and the same users' fields dropped from the period before.
  One script rather than a pipeline: an ioredis pipeline binds every script defined on the
  connection when it is made, which cost more than the writes. A hash Redis refuses (a key of
  another type where the hash should be) is skipped and counted; the others are still written.
  KEYS[1..] per hash, two: the hash, the previous period's hash (historyKey)
  ARGV[1..] per hash: when it expires (ms), the number of field/value pairs, then the pairs
  Returns {hashes written, hashes refused, the first refusal's error}.
]]
-- At most this many field/value pairs to one command, well within Lua's stack for unpack.
local PAIRS = 1000
local STEP = 2 * PAIRS
local written, refused, first = 0, 0, ''

-- One hash's writes; the error of the first command Redis refused, or nil.
local function write(hash, previous, expire_at, from_arg, last)
  for from = from_arg, last, STEP do
    local to = math.min(from + STEP - 1, last)
    local set, users = {}, {}
    for j = from, to, 2 do
      set[#set + 1] = ARGV[j]
      set[#set + 1] = ARGV[j + 1]
      users[#users + 1] = ARGV[j]
    end
    for _, r in ipairs({ redis.pcall('hset', hash, unpack(set)), redis.pcall('hdel', previous, unpack(users)) }) do
      if type(r) == 'table' and r.err then return r.err end
    end
  end
  local r = redis.pcall('pexpireat', hash, expire_at)
  if type(r) == 'table' and r.err then return r.err end
  return nil
end

local a = 1
for i = 1, #KEYS, 2 do
  local n = tonumber(ARGV[a + 1])
  local last = a + 1 + 2 * n
  local err = write(KEYS[i], KEYS[i + 1], ARGV[a], a + 2, last)
  if err then
    refused = refused + 1
    if first == '' then first = KEYS[i] .. ': ' .. err end
  else
    written = written + 1
  end
  a = last + 1
end
return { written, refused, first }
