--[[
  Renews a process's place in an exclusivity group: active always, in the lane while no other kind
  wants the group.
  KEYS[1] the group's lane (exclusiveLaneKey)
  KEYS[2] the group's active processes (exclusiveActiveKey)
  ARGV[1] kind
  ARGV[2] member (`<kind>|<process>`)
  ARGV[3] lease ttl (ms)
  ARGV[4] lane jobs running here (count)
  Returns {answer, lapsed}: answer 1 when this process may start lane jobs, 2 when it may not but
  its lease was extended for the lane jobs it runs, 0 when it is not in the lane; lapsed 1 when lane
  jobs run here but the lease had lapsed (another kind may have run since).
]]
--- @include "exclusivity-prelude"
local ttl = tonumber(ARGV[3])
local running = tonumber(ARGV[4]) > 0
local before = redis.call('zscore', KEYS[1], ARGV[2])
local lapsed = 0
if running and (not before or tonumber(before) <= now) then lapsed = 1 end
live(KEYS[1]) live(KEYS[2])
lease(KEYS[2], ARGV[2], ttl)
if foreign(KEYS[1], ARGV[1]) then return {0, lapsed} end
local member = redis.call('zscore', KEYS[1], ARGV[2])
if foreign(KEYS[2], ARGV[1]) then
  -- Another kind wants the group: no new lane jobs; stay in the lane only while ours still run.
  if member and running then lease(KEYS[1], ARGV[2], ttl) return {2, lapsed} end
  return {0, lapsed}
end
lease(KEYS[1], ARGV[2], ttl)
return {1, lapsed}
