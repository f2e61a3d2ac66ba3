/**
 * The Lua scripts of the exclusivity groups (see exclusivity.ts), defined as commands of the
 * connection. Every decision runs inside one script on Redis' clock.
 */
import type { RedisClient } from '../redis/connection.js';

// Shared by the scripts: Redis' clock in ms, lapsed members dropped, and whether a set holds a member
// of a kind other than ARGV's (members are `<kind>|<process>`; kind names have no `|`).
const PRELUDE = `local t = redis.call('time')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local function live(key) redis.call('zremrangebyscore', key, '-inf', now) end
local function foreign(key, kind)
  local mine = kind .. '|'
  for _, m in ipairs(redis.call('zrange', key, 0, -1)) do
    if string.sub(m, 1, #mine) ~= mine then return true end
  end
  return false
end
local function lease(key, member, ttl)
  redis.call('zadd', key, now + ttl, member)
  if redis.call('pttl', key) < ttl then redis.call('pexpire', key, ttl) end
end
`;

// KEYS: lane, active. ARGV: kind, member, ttl, lane jobs running here (count).
// Returns {answer, lapsed}: answer 1 when this process may start lane jobs, 2 when it may not but its
// lease was extended for the lane jobs it runs, 0 when it is not in the lane; lapsed 1 when lane jobs
// run here but the lease had lapsed (another kind may have run since).
const RENEW = `${PRELUDE}
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
return {1, lapsed}`;

// KEYS: lane, active. ARGV: member, and 1 to leave the active set too (the process is idle).
const LEAVE = `redis.call('zrem', KEYS[1], ARGV[1])
if ARGV[2] == '1' then redis.call('zrem', KEYS[2], ARGV[1]) end
return 0`;

// KEYS: lane, active, then the user keys. ARGV: kind, member, ttl, then one run token per user key.
// Registers the process as active, refuses all while another kind holds the lane, and takes each
// user key that is free. Tokens are unique per run, so a key twice in one call goes to the first,
// and a job's retry waits for its own earlier attempt that still runs past its timeout.
const ACQUIRE = `${PRELUDE}
local ttl = tonumber(ARGV[3])
live(KEYS[1]) live(KEYS[2])
lease(KEYS[2], ARGV[2], ttl)
local out = {}
local blocked = foreign(KEYS[1], ARGV[1])
for i = 3, #KEYS do
  local token = ARGV[i + 1]
  if not blocked and redis.call('exists', KEYS[i]) == 0 then redis.call('set', KEYS[i], token, 'PX', ttl) out[i - 2] = 1 else out[i - 2] = 0 end
end
return out`;

// Returns 1 when the key was still this run's and is extended, 0 when it lapsed or is another's.
const EXTEND = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end return 0`;

// ARGV: one run token per key; a key is deleted only while that run still holds it.
const RELEASE = `local n = 0
for i, key in ipairs(KEYS) do
  if redis.call('get', key) == ARGV[i] then n = n + redis.call('del', key) end
end
return n`;

export type Scripted = RedisClient & {
  sjLaneRenew(lane: string, active: string, kind: string, member: string, ttl: string, running: string): Promise<[number, number]>;
  sjLaneLeave(lane: string, active: string, member: string, idle: string): Promise<number>;
  sjAcquire(numKeys: number, ...args: string[]): Promise<number[]>;
  sjExtend(key: string, token: string, ttl: string): Promise<number>;
  sjRelease(numKeys: number, ...args: string[]): Promise<number>;
};

/** The scripts as commands of the connection, so each call sends a SHA, not the script. */
export function scripted(conn: RedisClient): Scripted {
  const c = conn as Scripted;
  if (typeof c.sjAcquire !== 'function') {
    conn.defineCommand('sjLaneRenew', { numberOfKeys: 2, lua: RENEW });
    conn.defineCommand('sjLaneLeave', { numberOfKeys: 2, lua: LEAVE });
    // No numberOfKeys: the key count is the first argument of each call.
    conn.defineCommand('sjAcquire', { lua: ACQUIRE });
    conn.defineCommand('sjExtend', { numberOfKeys: 1, lua: EXTEND });
    conn.defineCommand('sjRelease', { lua: RELEASE });
  }
  return c;
}
