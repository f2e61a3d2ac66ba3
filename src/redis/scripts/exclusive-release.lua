--[[
  Deletes user keys, each only while its run still holds it. Called with the key count as its first
  argument.
  KEYS[1..] user keys (exclusiveUserKey)
  ARGV[1..] one run token per key
  Returns how many keys were deleted.
]]
local n = 0
for i, key in ipairs(KEYS) do
  if redis.call('get', key) == ARGV[i] then n = n + redis.call('del', key) end
end
return n
