--[[
  Hands a manual tick a millisecond of its own: the first not yet taken for the kind at or after
  now, so processes sharing Redis never give two runs one id.
  KEYS[1] the manual clock (manualClockKey)
  ARGV[1] kind
  ARGV[2] now (epoch ms)
  Returns the millisecond taken.
]]
local last = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')
local t = tonumber(ARGV[2])
if t <= last then t = last + 1 end
redis.call('HSET', KEYS[1], ARGV[1], t)
return t
