/**
 * Enforces retention on a timer. BullMQ trims finished jobs only when another job finishes, so a
 * queue that goes quiet would keep its old jobs forever; this sweeps by age regardless, then runs
 * the dead-letter sweep (which the dead-letters module owns) on the same timer.
 */
import type { Config } from '../config/config.js';
import type { Queues } from '../jobs/queues.js';
import { kindsOf, SCHEDULE_QUEUE } from '../jobs/registry.js';
import type { Logger } from '../telemetry/logger.js';
import { DeadLetterSweep, type DeadLetters } from './dead-letters/index.js';

/** Jobs removed per clean call; large backlogs are worked off over several rounds. */
const CLEAN_BATCH = 5000;

export class Retention {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private readonly sweep: DeadLetterSweep;

  constructor(
    private readonly queues: Queues,
    deadLetters: DeadLetters,
    private readonly config: Config,
    private readonly log: Logger,
  ) {
    this.sweep = new DeadLetterSweep(deadLetters, config, log);
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.runOnce(), this.config.retention.intervalMs);
    this.timer.unref();
    void this.runOnce();
  }

  /** One round; concurrent calls share the round in flight. */
  runOnce(): Promise<void> {
    this.running ??= this.round().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async round(): Promise<void> {
    const { completedAgeMs, failedAgeMs } = this.config.retention;
    try {
      let removed = 0;
      const targets = [
        ...kindsOf(this.config).map((k) => ({ queue: k.queue, ...k.retention })),
        { queue: SCHEDULE_QUEUE, completedAgeMs, failedAgeMs },
      ];
      for (const t of targets) {
        const q = this.queues.get(t.queue);
        removed += (await q.clean(t.completedAgeMs, CLEAN_BATCH, 'completed')).length;
        removed += (await q.clean(t.failedAgeMs, CLEAN_BATCH, 'failed')).length;
      }
      if (removed > 0) this.log.info({ removed }, 'retention: removed expired jobs');
      await this.sweep.runOnce();
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'retention round failed; will try again');
    }
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }
}
