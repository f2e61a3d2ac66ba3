--[[
  Sets an owner's weight in fair admission and, when it changed, puts the owner back at the virtual
  clock of every fair kind: its place among the owners with work (or parked at their cap) was
  stamped with the old weight, so a raised weight would wait out what the old one earned (0.01 is
  100 jobs of the others' per job), and a finish tag left by the old weight would hold it back when
  it next has work. At the clock, the next refill orders it by the new weight.
  KEYS[1] weights (ownerWeightsKey)
  KEYS[2..] per fair kind, four: owners, parked, clock, finish (fairKey)
  ARGV[1] owner
  ARGV[2] weight; 1, the default, removes the entry
  Returns 1 when the weight changed, else 0.
]]
local owner, weight = ARGV[1], ARGV[2]
if tonumber(redis.call('hget', KEYS[1], owner) or '1') == tonumber(weight) then return 0 end
if tonumber(weight) == 1 then
  redis.call('hdel', KEYS[1], owner)
else
  redis.call('hset', KEYS[1], owner, weight)
end
for i = 2, #KEYS, 4 do
  local clock = redis.call('get', KEYS[i + 2]) or '0'
  redis.call('zadd', KEYS[i], 'XX', clock, owner)
  redis.call('zadd', KEYS[i + 1], 'XX', clock, owner)
  redis.call('zrem', KEYS[i + 3], owner)
end
return 1
