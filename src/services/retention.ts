/**
 * Enforces retention on a timer. BullMQ trims finished jobs only when another job finishes, so a
 * queue that goes quiet would keep its old jobs forever; this sweeps by age regardless, and re-checks
 * that every failed job has its dead letter.
 */
import type { Config } from '../config/config.js';
import type { Queues } from '../jobs/queues.js';
import { kindsOf, SCHEDULE_QUEUE } from '../jobs/registry.js';
import type { Logger } from '../telemetry/logger.js';
import type { DeadLetters } from './dead-letters.js';

/** Jobs removed per clean call; large backlogs are worked off over several rounds. */
const CLEAN_BATCH = 5000;
/** Overlap for the dead-letter sweep, so a job failing while a sweep runs is seen by the next one. */
const SWEEP_OVERLAP_MS = 60_000;

export class Retention {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private sweptUntil: number;

  constructor(
    private readonly queues: Queues,
    private readonly deadLetters: DeadLetters,
    private readonly config: Config,
    private readonly log: Logger,
  ) {
    // The first sweep looks back over everything still retained in `failed`.
    this.sweptUntil = Date.now() - Math.max(config.retention.failedAgeMs, ...kindsOf(config).map((k) => k.retention.failedAgeMs));
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
      const now = Date.now();
      const recorded = await this.deadLetters.sweep(this.sweptUntil - SWEEP_OVERLAP_MS);
      this.sweptUntil = now;
      if (recorded > 0) this.log.warn({ recorded }, 'dead-letter sweep recorded failed jobs that had no dead letter');
      const retired = await this.deadLetters.retireSettled();
      if (retired > 0) this.log.info({ retired }, 'retired dead letters whose jobs were retried since');
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
