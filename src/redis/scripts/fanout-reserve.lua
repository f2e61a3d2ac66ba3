--[[
  Moves the schedule's listing position on, only while this tick still pages.
  KEYS[1] the schedule's fan-out hash (fanoutScheduleKey)
  ARGV[1] tick id
  ARGV[2] position (JSON)
  ARGV[3] listing length, or '' when unknown
  Returns 1, or the id of the tick that took over.
]]
local cur = redis.call('hget', KEYS[1], 'tick')
if cur ~= ARGV[1] then return cur or '' end
redis.call('hset', KEYS[1], 'pos', ARGV[2])
if ARGV[3] ~= '' then redis.call('hset', KEYS[1], 'length', ARGV[3]) end
return 1
