--[[
  Included (not a command) by the fair admission scripts: Redis' clock in ms as `now`, `num(x)`
  writing a virtual time without losing digits, and `unpark(owners, parked, clock, owner)` putting
  an owner that was at its cap back among the owners with work, no earlier than the virtual clock.
]]
local t = redis.call('time')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local function num(x) return string.format('%.17g', x) end
local function unpark(owners, parked, clock, owner)
  local tag = redis.call('zscore', parked, owner)
  if not tag then return end
  redis.call('zrem', parked, owner)
  redis.call('zadd', owners, num(math.max(tonumber(tag), tonumber(redis.call('get', clock) or '0'))), owner)
end
