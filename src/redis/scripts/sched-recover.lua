--[[
  Decides whether a pending run's job must be added again: only when the run has not started (it is
  pending and not among the started), no producer took it up within the grace, and its job is not in
  Redis (a producer died between taking it and adding its job). Taking it up stamps it, so one
  producer adds; a run found started leaves pending.
  KEYS[1] scheduleBaseKey; KEYS[2] the job's hash (queueKey of the kind's queue and the job id)
  KEYS[3] a fair kind's specs (fairKey): a job there waits for admission, so it is not gone
  ARGV[1] member `<id>:<run ms>`; ARGV[2] now (ms); ARGV[3] grace (ms); ARGV[4] the job id
  Returns 1 when the caller must add the job, else 0.
]]
local pending = KEYS[1] .. ':pending'
local score = redis.call('zscore', pending, ARGV[1])
if not score or tonumber(score) > tonumber(ARGV[2]) - tonumber(ARGV[3]) then return 0 end
if redis.call('zscore', KEYS[1] .. ':started', ARGV[1]) then
  redis.call('zrem', pending, ARGV[1])
  return 0
end
redis.call('zadd', pending, ARGV[2], ARGV[1])
if redis.call('exists', KEYS[2]) == 1 or redis.call('hexists', KEYS[3], ARGV[4]) == 1 then return 0 end
return 1
