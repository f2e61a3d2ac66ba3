/**
 * Per-user exclusivity across kinds: one Redis key per group and user, held by the job that runs. A
 * job that finds it held by another waits (it is moved back to delayed for a moment, which BullMQ
 * counts as no attempt). The key lives as long as a job lock (SPOTTER_JOBS_LOCK_DURATION) and is
 * renewed while the job runs, so a worker killed mid-job frees the user when its job lock lapses.
 */
import type { RedisClient } from '../redis.js';

// Scripts over many keys at once: the acquires (and releases) a worker asks for within one turn of
// the event loop go to Redis in one call, so exclusivity costs a fraction of a round trip per job.
// KEYS are the group keys; ARGV[1] the TTL, then one job id per key. A key is taken when free or
// already ours (the same job re-run after its worker died); a key twice in one call goes to the first.
const ACQUIRE = `local out = {}
for i, key in ipairs(KEYS) do
  local v = redis.call('get', key)
  if v == false or v == ARGV[i + 1] then redis.call('set', key, ARGV[i + 1], 'PX', ARGV[1]) out[i] = 1 else out[i] = 0 end
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
  sjAcquire(numKeys: number, ...args: string[]): Promise<number[]>;
  sjExtend(key: string, jobId: string, ttl: string): Promise<number>;
  sjRelease(numKeys: number, ...args: string[]): Promise<number>;
};

/** The scripts as commands of the connection, so each call sends a SHA, not the script. */
function scripted(conn: RedisClient): Scripted {
  const c = conn as Scripted;
  if (typeof c.sjAcquire !== 'function') {
    // No numberOfKeys: the key count is the first argument of each call.
    conn.defineCommand('sjAcquire', { lua: ACQUIRE });
    conn.defineCommand('sjExtend', { numberOfKeys: 1, lua: EXTEND });
    conn.defineCommand('sjRelease', { lua: RELEASE });
  }
  return c;
}

interface Asking {
  key: string;
  jobId: string;
  resolve: (taken: boolean) => void;
  reject: (err: unknown) => void;
}

export class Exclusivity {
  private readonly conn: Scripted;
  /** Keys this process holds, with the job holding each; renewed together by one timer. */
  private readonly held = new Map<string, string>();
  private timer: NodeJS.Timeout | undefined;
  /** Gathered until the end of this turn of the event loop, then sent as one call each. */
  private asking: Asking[] = [];
  private releasing: { key: string; jobId: string; done: (err?: unknown) => void }[] = [];
  private scheduled = false;

  constructor(
    conn: RedisClient,
    private readonly prefix: string,
    private readonly ttlMs: number,
  ) {
    this.conn = scripted(conn);
  }

  key(group: string, userId: string): string {
    return `${this.prefix}:spotter-jobs:exclusive:${group}:${userId}`;
  }

  /** The job id holding the user's group now, if any. */
  holder(group: string, userId: string): Promise<string | null> {
    return this.conn.get(this.key(group, userId));
  }

  /**
   * Takes the user's group for `jobId`; resolves with a release function, or undefined when another
   * job holds it. While held, the key is renewed every third of its lifetime.
   */
  async acquire(group: string, userId: string, jobId: string): Promise<(() => Promise<void>) | undefined> {
    const key = this.key(group, userId);
    const taken = await new Promise<boolean>((resolve, reject) => {
      this.asking.push({ key, jobId, resolve, reject });
      this.schedule();
    });
    if (!taken) return undefined;
    this.held.set(key, jobId);
    this.timer ??= this.renewals();
    return () => {
      this.held.delete(key);
      return new Promise<void>((resolve, reject) => {
        this.releasing.push({ key, jobId, done: (err) => (err ? reject(err) : resolve()) });
        this.schedule();
      });
    };
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.flush());
  }

  /** Releases first, so a user freed and taken again in the same turn is taken by the new job. */
  private flush(): void {
    this.scheduled = false;
    const releasing = this.releasing;
    const asking = this.asking;
    this.releasing = [];
    this.asking = [];
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
    if (asking.length > 0) {
      this.conn.sjAcquire(asking.length, ...asking.map((a) => a.key), String(this.ttlMs), ...asking.map((a) => a.jobId)).then(
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

  /** Stops renewing (at shutdown); held keys then lapse with the job locks. */
  close(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}
