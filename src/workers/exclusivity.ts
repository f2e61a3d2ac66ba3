/**
 * Per-user exclusivity across kinds: one Redis key per group and user, held by the job that runs. A
 * job that finds it held by another waits (it is moved back to delayed for a moment, which BullMQ
 * counts as no attempt). The key lives as long as a job lock (SPOTTER_JOBS_LOCK_DURATION) and is
 * renewed while the job runs, so a worker killed mid-job frees the user when its job lock lapses.
 */
import type { RedisClient } from '../redis.js';

// Taken when free or already ours (the same job re-run after its worker died).
const ACQUIRE = `local v = redis.call('get', KEYS[1])
if v == false or v == ARGV[1] then redis.call('set', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1 end
return 0`;
const EXTEND = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end return 0`;
const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0`;

type Scripted = RedisClient & {
  sjAcquire(key: string, jobId: string, ttl: string): Promise<number>;
  sjExtend(key: string, jobId: string, ttl: string): Promise<number>;
  sjRelease(key: string, jobId: string): Promise<number>;
};

/** The scripts as commands of the connection, so each call sends a SHA, not the script. */
function scripted(conn: RedisClient): Scripted {
  const c = conn as Scripted;
  if (typeof c.sjAcquire !== 'function') {
    conn.defineCommand('sjAcquire', { numberOfKeys: 1, lua: ACQUIRE });
    conn.defineCommand('sjExtend', { numberOfKeys: 1, lua: EXTEND });
    conn.defineCommand('sjRelease', { numberOfKeys: 1, lua: RELEASE });
  }
  return c;
}

export class Exclusivity {
  private readonly conn: Scripted;
  /** Keys this process holds, with the job holding each; renewed together by one timer. */
  private readonly held = new Map<string, string>();
  private timer: NodeJS.Timeout | undefined;

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
    if ((await this.conn.sjAcquire(key, jobId, String(this.ttlMs))) !== 1) return undefined;
    this.held.set(key, jobId);
    this.timer ??= this.renewals();
    return async () => {
      this.held.delete(key);
      await this.conn.sjRelease(key, jobId);
    };
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
