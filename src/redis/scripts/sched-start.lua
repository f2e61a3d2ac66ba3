--[[
  A job of a subject schedule's run starts: says whether its handler runs. Not when another job of
  the same run started before (a producer's add that came late, after the run's first job ran and was
  removed), nor when the schedule was removed, is paused, or was replaced since the job was made.
  The run leaves pending, so the materialiser's recovery never adds it again.
  KEYS[1] scheduleBaseKey
  ARGV[1] id; ARGV[2] the run's time (ms); ARGV[3] the definition version in the job ('' if none)
  ARGV[4] the job's creation time (ms): one job of the run from another
  ARGV[5] now (ms); ARGV[6] how long a run is remembered as started (ms)
  Returns `run`, `duplicate`, `removed`, `paused` or `replaced`.
]]
--- @include "sched-prelude"
local member = ARGV[1] .. ':' .. ARGV[2]
local started = base .. ':started'
local first = redis.call('zscore', started, member)
if first and tonumber(first) ~= tonumber(ARGV[4]) then return 'duplicate' end
redis.call('zrem', base .. ':pending', member)
redis.call('zadd', started, ARGV[4], member)
redis.call('zremrangebyscore', started, '-inf', tonumber(ARGV[5]) - tonumber(ARGV[6]))
local def = getDef(ARGV[1])
if not def then return 'removed' end
if stateOf(def) == 'p' then return 'paused' end
if ARGV[3] ~= '' and version(def) ~= ARGV[3] then return 'replaced' end
return 'run'
