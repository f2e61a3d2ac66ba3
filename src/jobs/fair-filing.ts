/**
 * Filing a fair kind's jobs in their owners' backlogs: the adds of one turn of the event loop go to
 * Redis as one script call (fair-add.lua) per 200, so a handler adding thousands of jobs at once
 * pays one round trip per 200 rather than one per job; a lone add waits only for the end of its turn.
 */

import { scripted } from '../redis/commands.js';
import type { RedisClient } from '../redis/connection.js';
import { addKeys, type FairKeys } from './fair-keys.js';

/**
 * Most jobs filed by one script call. Redis runs a script in one go and every worker's commands wait
 * behind it; 200 keep a call well under a millisecond (1,000 took about 3 ms).
 */
const MOST_PER_CALL = 200;

interface Pending {
  args: [string, string, string, string, string];
  resolve: (id: string) => void;
  reject: (err: unknown) => void;
}

export class Filing {
  private pending: Pending[] = [];
  private scheduled = false;

  constructor(
    private readonly conn: RedisClient,
    private readonly keys: FairKeys,
    /** Told after each batch is filed (a refill may admit it). */
    private readonly filed: () => void,
  ) {}

  /**
   * Files one job, due at `dueAt` (ms) or now; resolves with the id it is (its own, or the waiting
   * job a coalescing one merged into).
   */
  file(jobId: string, spec: string, owner: string, coalesce: boolean, dueAt = 0): Promise<string> {
    return new Promise((resolve, reject) => {
      this.pending.push({ args: [jobId, spec, owner, coalesce ? '1' : '0', String(dueAt)], resolve, reject });
      if (this.pending.length >= MOST_PER_CALL) this.flush();
      else if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    const batch = this.pending.splice(0, MOST_PER_CALL);
    if (batch.length === 0) return;
    scripted(this.conn)
      .sjFairAdd(...addKeys(this.keys), ...batch.flatMap((b) => b.args))
      .then(
        (ids) => {
          for (const [i, b] of batch.entries()) b.resolve(String(ids[i]));
          this.filed();
        },
        (err: unknown) => {
          for (const b of batch) b.reject(err);
        },
      );
    if (this.pending.length > 0 && !this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }
}
