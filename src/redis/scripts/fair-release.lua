--[[
  Lets go of finished jobs' holds: each owner's count goes down once per job, and an owner parked at
  its cap goes back among the owners with work when it drops below.
  KEYS[1] held   KEYS[2] holds   KEYS[3] owners   KEYS[4] parked   KEYS[5] clock (all fairKey)
  ARGV[1] owner cap
  ARGV[2..] members `<owner> <jobId>`
  Returns how many holds were let go.
]]
--- @include "fair-prelude"
local cap, n = tonumber(ARGV[1]), 0
for i = 2, #ARGV do
  if let_go(KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], cap, ARGV[i]) then n = n + 1 end
end
return n
