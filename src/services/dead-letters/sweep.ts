/**
 * The dead-letter sweep, run on retention's timer: records every job that reached `failed` with no
 * dead letter (its worker died between the two), then retires the dead letters whose jobs were
 * retried since. Each round looks back to where the last one began, with an overlap.
 */
import type { Config } from '../../config/config.js';
import { kindsOf } from '../../jobs/registry.js';
import type { Logger } from '../../telemetry/logger.js';
import type { DeadLetters } from './store.js';

/** Overlap for the dead-letter sweep, so a job failing while a sweep runs is seen by the next one. */
const SWEEP_OVERLAP_MS = 60_000;

export class DeadLetterSweep {
  private sweptUntil: number;

  constructor(
    private readonly deadLetters: DeadLetters,
    config: Config,
    private readonly log: Logger,
  ) {
    // The first sweep looks back over everything still retained in `failed`.
    this.sweptUntil = Date.now() - Math.max(config.retention.failedAgeMs, ...kindsOf(config).map((k) => k.retention.failedAgeMs));
  }

  /** One sweep; throws what Redis threw (the caller logs it and tries again on its next round). */
  async runOnce(): Promise<void> {
    const now = Date.now();
    const recorded = await this.deadLetters.sweep(this.sweptUntil - SWEEP_OVERLAP_MS);
    this.sweptUntil = now;
    if (recorded > 0) this.log.warn({ recorded }, 'dead-letter sweep recorded failed jobs that had no dead letter');
    const retired = await this.deadLetters.retireSettled();
    if (retired > 0) this.log.info({ retired }, 'retired dead letters whose jobs were retried since');
  }
}
