--[[
  Writes one flush of users' history records (src/services/user-history.ts) in one call: per hash,
  its fields set and its expiry set, and the same users' fields dropped from the period before.
  One script rather than a pipeline: an ioredis pipeline binds every script defined on the
  connection when it is made, which cost more than the writes.
  KEYS[1..] per hash, two: the hash, the previous period's hash (historyKey)
  ARGV[1..] per hash: when it expires (ms), the number of field/value pairs, then the pairs
  Returns the number of hashes written.
]]
-- At most this many field/value pairs to one command, well within Lua's stack for unpack.
local PAIRS = 1000
local STEP = 2 * PAIRS
local a = 1
for i = 1, #KEYS, 2 do
  local expire_at, n = ARGV[a], tonumber(ARGV[a + 1])
  local first, last = a + 2, a + 1 + 2 * n
  for from = first, last, STEP do
    local to = math.min(from + STEP - 1, last)
    local set, users = {}, {}
    for j = from, to, 2 do
      set[#set + 1] = ARGV[j]
      set[#set + 1] = ARGV[j + 1]
      users[#users + 1] = ARGV[j]
    end
    redis.call('hset', KEYS[i], unpack(set))
    redis.call('hdel', KEYS[i + 1], unpack(users))
  end
  redis.call('pexpireat', KEYS[i], expire_at)
  a = last + 1
end
return #KEYS / 2
