--[[
  Registers the process as active in an exclusivity group, refuses all while another kind holds the
  lane, and takes each user key that is free. Tokens are unique per run, so a key twice in one call
  goes to the first, and a job's retry waits for its own earlier attempt that still runs past its
  timeout. Called with the key count as its first argument.
  KEYS[1] the group's lane (exclusiveLaneKey)
  KEYS[2] the group's active processes (exclusiveActiveKey)
  KEYS[3..] user keys (exclusiveUserKey)
  ARGV[1] kind
  ARGV[2] member (`<kind>|<process>`)
  ARGV[3] lease ttl (ms)
  ARGV[4..] one run token per user key
  Returns one 1 (taken) or 0 (not taken) per user key.
]]
--- @include "exclusivity-prelude"
local ttl = tonumber(ARGV[3])
live(KEYS[1]) live(KEYS[2])
lease(KEYS[2], ARGV[2], ttl)
local out = {}
local blocked = foreign(KEYS[1], ARGV[1])
for i = 3, #KEYS do
  local token = ARGV[i + 1]
  if not blocked and redis.call('exists', KEYS[i]) == 0 then redis.call('set', KEYS[i], token, 'PX', ttl) out[i - 2] = 1 else out[i - 2] = 0 end
end
return out
