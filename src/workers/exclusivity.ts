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

export class Exclusivity {
  constructor(
    private readonly conn: RedisClient,
    private readonly prefix: string,
    private readonly ttlMs: number,
  ) {}

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
    if ((await this.conn.eval(ACQUIRE, 1, key, jobId, String(this.ttlMs))) !== 1) return undefined;
    const timer = setInterval(
      () => {
        void this.conn.eval(EXTEND, 1, key, jobId, String(this.ttlMs)).catch(() => {});
      },
      Math.max(100, Math.floor(this.ttlMs / 3)),
    );
    timer.unref();
    return async () => {
      clearInterval(timer);
      await this.conn.eval(RELEASE, 1, key, jobId);
    };
  }
}
