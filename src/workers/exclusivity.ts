/**
 * Per-user exclusivity across kinds. Two jobs of one group for the same user never run at the same
 * time, on any worker. Within one kind, coalescing already keeps at most one job per user waiting,
 * delayed or running (BullMQ deduplication with keepLastIfActive), so the group only has to keep
 * apart the jobs of *different* kinds. That gives two ways to run a job of the group:
 *
 * - **The lane** (no per-job Redis call): while only one kind of the group has work, its processes
 *   hold the group's lane, a small sorted set of `<kind>|<process>` members with leases, and run
 *   their jobs without per-user keys. A process keeps its lane lease fresh on a timer and starts a
 *   job in the lane only while its last renewal is recent, so a lane is never used on stale news.
 * - **Per-user keys**: one key per group and user, held by the job that runs, renewed while it runs.
 *   A job whose user is held by another waits (moved back to delayed for a moment, no attempt used).
 *
 * Handover: a process of another kind that gets a job registers as active in the group (a second
 * sorted set) and is refused while the lane belongs to another kind. The lane's processes see it at
 * their next renewal, stop starting lane jobs, and leave the lane once their lane jobs have finished.
 * From then on every kind uses per-user keys, until a kind is alone again and takes the lane. All
 * leases last SPOTTER_JOBS_LOCK_DURATION: a worker killed mid-job frees the lane, like its users,
 * when its job lock lapses. Every decision runs inside one Lua script on Redis' clock.
 */
import { randomUUID } from 'node:crypto';
import type { RedisClient } from '../redis.js';

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
// Returns 1 when this process may start lane jobs, 0 when it must use per-user keys.
const RENEW = `${PRELUDE}
local ttl = tonumber(ARGV[3])
live(KEYS[1]) live(KEYS[2])
lease(KEYS[2], ARGV[2], ttl)
if foreign(KEYS[1], ARGV[1]) then return 0 end
local member = redis.call('zscore', KEYS[1], ARGV[2])
if foreign(KEYS[2], ARGV[1]) then
  -- Another kind wants the group: no new lane jobs; stay in the lane only while ours still run.
  if member and tonumber(ARGV[4]) > 0 then lease(KEYS[1], ARGV[2], ttl) end
  return 0
end
lease(KEYS[1], ARGV[2], ttl)
return 1`;

// KEYS: lane, active. ARGV: member, and 1 to leave the active set too (the process is idle).
const LEAVE = `redis.call('zrem', KEYS[1], ARGV[1])
if ARGV[2] == '1' then redis.call('zrem', KEYS[2], ARGV[1]) end
return 0`;

// KEYS: lane, active, then the user keys. ARGV: kind, member, ttl, then one job id per user key.
// Registers the process as active, refuses all while another kind holds the lane, and takes each
// user key when free or already ours (the same job re-run after its worker died); a key twice in
// one call goes to the first.
const ACQUIRE = `${PRELUDE}
local ttl = tonumber(ARGV[3])
live(KEYS[1]) live(KEYS[2])
lease(KEYS[2], ARGV[2], ttl)
local out = {}
local blocked = foreign(KEYS[1], ARGV[1])
for i = 3, #KEYS do
  local id = ARGV[i + 1]
  local v = redis.call('get', KEYS[i])
  if not blocked and (v == false or v == id) then redis.call('set', KEYS[i], id, 'PX', ttl) out[i - 2] = 1 else out[i - 2] = 0 end
end
return out`;

const EXTEND = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end return 0`;

// ARGV: one job id per key; a key is deleted only while that job still holds it.
const RELEASE = `local n = 0
for i, key in ipairs(KEYS) do
  if redis.call('get', key) == ARGV[i] then n = n + redis.call('del', key) end
end
return n`;

type Scripted = RedisClient & {
  sjLaneRenew(lane: string, active: string, kind: string, member: string, ttl: string, running: string): Promise<number>;
  sjLaneLeave(lane: string, active: string, member: string, idle: string): Promise<number>;
  sjAcquire(numKeys: number, ...args: string[]): Promise<number[]>;
  sjExtend(key: string, jobId: string, ttl: string): Promise<number>;
  sjRelease(numKeys: number, ...args: string[]): Promise<number>;
};

/** The scripts as commands of the connection, so each call sends a SHA, not the script. */
function scripted(conn: RedisClient): Scripted {
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

export type Release = () => Promise<void>;

interface Asking {
  key: string;
  jobId: string;
  resolve: (taken: boolean) => void;
  reject: (err: unknown) => void;
}

/** How long after its last job a process stays active in a group before it leaves it. */
const IDLE_MS = 1000;

/** One kind of one group, in this process: its lane lease and the acquires gathered this turn. */
class Lane {
  readonly member: string;
  readonly laneKey: string;
  readonly activeKey: string;
  /** Lane jobs running here. */
  running = 0;
  /** Jobs running here on per-user keys: the process stays active in the group while any runs. */
  locked = 0;
  /** Jobs of this kind that ran or asked here lately; the process is active in the group until idle. */
  lastUse = 0;
  /** Lane jobs may start until then (local clock): half a lease after the renewal was sent. */
  grantedUntil = 0;
  asking: Asking[] = [];
  private timer: NodeJS.Timeout | undefined;
  private renewing = false;
  private inLane = false;

  constructor(
    private readonly conn: Scripted,
    base: string,
    readonly kind: string,
    processId: string,
    private readonly ttlMs: number,
    private readonly onChange: (kind: string, lane: boolean) => void,
  ) {
    this.member = `${kind}|${processId}`;
    this.laneKey = `${base}:lane`;
    this.activeKey = `${base}:active`;
  }

  /** Called for every job of the kind: keeps the process active and the renewals going. */
  touch(): void {
    this.lastUse = Date.now();
    if (!this.timer) {
      this.timer = setInterval(() => this.renew(), Math.max(20, Math.min(100, Math.floor(this.ttlMs / 10))));
      this.timer.unref();
      this.renew();
    }
  }

  /** A lane job may start now. */
  open(): boolean {
    return Date.now() < this.grantedUntil;
  }

  /** A lane job ended; the last one out of a closed lane leaves it at once, so the other kind need not wait. */
  ended(): void {
    this.running--;
    this.lastUse = Date.now();
    if (this.running === 0 && !this.open()) this.renew();
  }

  /** One lane call at a time, so a leave can never overtake a renewal. */
  renew(): void {
    if (this.renewing) return;
    const idle = this.running === 0 && this.locked === 0 && Date.now() - this.lastUse > IDLE_MS;
    if (idle || (!this.open() && this.running === 0 && this.inLane)) {
      // Leaving: no lane job may start from here on, whatever the answer.
      const was = this.inLane;
      this.grantedUntil = 0;
      this.renewing = true;
      this.inLane = false;
      this.conn
        .sjLaneLeave(this.laneKey, this.activeKey, this.member, idle ? '1' : '0')
        .catch(() => {})
        .finally(() => {
          this.renewing = false;
        });
      if (idle) this.stop();
      if (was) this.onChange(this.kind, false);
      return;
    }
    const sent = Date.now();
    this.renewing = true;
    this.conn.sjLaneRenew(this.laneKey, this.activeKey, this.kind, this.member, String(this.ttlMs), String(this.running)).then(
      (granted) => {
        this.renewing = false;
        const was = this.open();
        if (granted === 1) {
          this.inLane = true;
          this.grantedUntil = sent + this.ttlMs / 2;
        } else {
          this.grantedUntil = 0;
          // Still listed while lane jobs run here; out as soon as they are done.
          if (this.running === 0 && this.inLane) this.renew();
        }
        if (was !== this.open()) this.onChange(this.kind, this.open());
      },
      () => {
        this.renewing = false;
        this.grantedUntil = 0;
      },
    );
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Out of the lane and the active set for good (shutdown); errors are left to the leases. */
  leave(): Promise<unknown> {
    this.grantedUntil = 0;
    this.inLane = false;
    return this.conn.sjLaneLeave(this.laneKey, this.activeKey, this.member, '1').catch(() => {});
  }
}

export class Exclusivity {
  private readonly conn: Scripted;
  private readonly processId = randomUUID().slice(0, 8);
  private readonly lanes = new Map<string, Lane>();
  /** Per-user keys this process holds, with the job holding each; renewed together by one timer. */
  private readonly held = new Map<string, string>();
  private timer: NodeJS.Timeout | undefined;
  private releasing: { key: string; jobId: string; done: (err?: unknown) => void }[] = [];
  private scheduled = false;

  constructor(
    conn: RedisClient,
    private readonly prefix: string,
    private readonly ttlMs: number,
    /** Told when a kind starts or stops running in its group's lane (for the log). */
    private readonly onLane: (group: string, kind: string, lane: boolean) => void = () => {},
  ) {
    this.conn = scripted(conn);
  }

  key(group: string, userId: string): string {
    return `${this.groupBase(group)}:${userId}`;
  }

  private groupBase(group: string): string {
    return `${this.prefix}:spotter-jobs:exclusive:${group}`;
  }

  private lane(group: string, kind: string): Lane {
    const id = `${group}\0${kind}`;
    let lane = this.lanes.get(id);
    if (!lane) {
      lane = new Lane(this.conn, this.groupBase(group), kind, this.processId, this.ttlMs, (k, open) => this.onLane(group, k, open));
      this.lanes.set(id, lane);
    }
    return lane;
  }

  /** Whether jobs of `kind` start in the group's lane now (without per-user keys). */
  laneOpen(group: string, kind: string): boolean {
    return this.lanes.get(`${group}\0${kind}`)?.open() ?? false;
  }

  /**
   * Lets a job of `kind` for `userId` run; resolves with its release, or undefined when it must wait
   * (another job of the group holds the user, or another kind holds the lane). In the lane this
   * answers without asking Redis.
   */
  enter(group: string, kind: string, userId: string, jobId: string): Release | Promise<Release | undefined> {
    const lane = this.lane(group, kind);
    lane.touch();
    if (lane.open()) {
      lane.running++;
      return () => {
        lane.ended();
        return Promise.resolve();
      };
    }
    return this.acquire(lane, group, userId, jobId);
  }

  private async acquire(lane: Lane, group: string, userId: string, jobId: string): Promise<Release | undefined> {
    const key = this.key(group, userId);
    const taken = await new Promise<boolean>((resolve, reject) => {
      lane.asking.push({ key, jobId, resolve, reject });
      this.schedule();
    });
    if (!taken) return undefined;
    this.held.set(key, jobId);
    lane.locked++;
    this.timer ??= this.renewals();
    return () => {
      this.held.delete(key);
      lane.locked--;
      lane.touch();
      return new Promise<void>((resolve, reject) => {
        this.releasing.push({ key, jobId, done: (err) => (err ? reject(err) : resolve()) });
        this.schedule();
      });
    };
  }

  // Acquires and releases asked for within one turn of the event loop go to Redis as one call each
  // (per kind), so the keys cost a fraction of a round trip per job.
  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.flush());
  }

  /** Releases first, so a user freed and taken again in the same turn is taken by the new job. */
  private flush(): void {
    this.scheduled = false;
    const releasing = this.releasing;
    this.releasing = [];
    if (releasing.length > 0) {
      this.conn.sjRelease(releasing.length, ...releasing.map((r) => r.key), ...releasing.map((r) => r.jobId)).then(
        () => {
          for (const r of releasing) r.done();
        },
        (err: unknown) => {
          for (const r of releasing) r.done(err);
        },
      );
    }
    for (const lane of this.lanes.values()) {
      const asking = lane.asking;
      if (asking.length === 0) continue;
      lane.asking = [];
      this.conn
        .sjAcquire(
          asking.length + 2,
          lane.laneKey,
          lane.activeKey,
          ...asking.map((a) => a.key),
          lane.kind,
          lane.member,
          String(this.ttlMs),
          ...asking.map((a) => a.jobId),
        )
        .then(
          (taken) => {
            for (const [i, a] of asking.entries()) a.resolve(taken[i] === 1);
          },
          (err: unknown) => {
            for (const a of asking) a.reject(err);
          },
        );
    }
  }

  private renewals(): NodeJS.Timeout {
    const t = setInterval(
      () => {
        if (this.held.size === 0) return;
        const p = this.conn.pipeline() as unknown as { sjExtend(k: string, j: string, ttl: string): void; exec(): Promise<unknown> };
        for (const [key, jobId] of this.held) p.sjExtend(key, jobId, String(this.ttlMs));
        p.exec().catch(() => {});
      },
      Math.max(100, Math.floor(this.ttlMs / 3)),
    );
    t.unref();
    return t;
  }

  /**
   * At shutdown, once the workers are closed: leaves every lane no job of this process still runs in,
   * so another kind of the group need not wait for the lease to lapse after a restart. Lanes with
   * jobs still running (abandoned past the deadline), like held user keys, lapse with the job locks.
   */
  async close(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    const leaving: Promise<unknown>[] = [];
    for (const lane of this.lanes.values()) {
      lane.stop();
      if (lane.running === 0 && lane.locked === 0) leaving.push(lane.leave());
    }
    await Promise.all(leaving);
  }
}
