--[[
  The newest tick of a schedule pages; an older one (by due time) may not take over from it.
  KEYS[1] the schedule's fan-out hash (fanoutScheduleKey)
  ARGV[1] tick id
  ARGV[2] the tick's due time (epoch ms)
  Returns {1, position, length, previous tick} when this tick may page, {0, newer tick} otherwise.
]]
local cur = redis.call('hmget', KEYS[1], 'tick', 'at', 'pos', 'length')
if cur[1] and cur[1] ~= ARGV[1] and (tonumber(cur[2]) or 0) > tonumber(ARGV[2]) then return {0, cur[1]} end
redis.call('hset', KEYS[1], 'tick', ARGV[1], 'at', ARGV[2])
return {1, cur[3] or '', cur[4] or '', cur[1] or ''}
