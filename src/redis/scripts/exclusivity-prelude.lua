--[[
  Included (not a command) by the exclusivity scripts: Redis' clock in ms as `now`, `live(key)`
  dropping lapsed members of a lease set, `foreign(key, kind)` telling whether a set holds a member
  of a kind other than `kind` (members are `<kind>|<process>`; kind names have no `|`), and
  `lease(key, member, ttl)` adding or renewing a member's lease.
]]
local t = redis.call('time')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local function live(key) redis.call('zremrangebyscore', key, '-inf', now) end
local function foreign(key, kind)
  local mine = kind .. '|'
  for _, m in ipairs(redis.call('zrange', key, 0, -1)) do
    if string.sub(m, 1, #mine) ~= mine then return true end
  end
  return false
end
local function lease(key, member, ttl)
  redis.call('zadd', key, now + ttl, member)
  if redis.call('pttl', key) < ttl then redis.call('pexpire', key, ttl) end
end
