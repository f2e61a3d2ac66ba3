--[[
  A process leaves an exclusivity group's lane, and the group's active set when idle.
  KEYS[1] the group's lane (exclusiveLaneKey)
  KEYS[2] the group's active processes (exclusiveActiveKey)
  ARGV[1] member (`<kind>|<process>`)
  ARGV[2] 1 to leave the active set too (the process is idle), else 0
  Returns 0.
]]
redis.call('zrem', KEYS[1], ARGV[1])
if ARGV[2] == '1' then redis.call('zrem', KEYS[2], ARGV[1]) end
return 0
