/**
 * A failed attempt: `decide()` says retry or dead-letter; this logs it, counts it and throws what
 * makes BullMQ do that.
 */
import { type Job, UnrecoverableError } from 'bullmq';
import type { KindConfig } from '../config/kind-config.js';
import { describeThrown } from '../jobs/errors.js';
import { decide } from '../jobs/outcome.js';
import { stampFirstAttempt } from '../services/dead-letters/index.js';
import { activeSpan } from '../telemetry/tracing.js';
import type { RunHandlerDeps } from './run-deps.js';

/** Set on a retried error: the delay `decide()` chose, read back by the worker's backoff strategy. */
export interface RetryDelay {
  retryDelayMs?: number;
}

/** The fields every log line about this attempt carries; built only for a line that is written. */
export function scopeOf(kind: KindConfig, job: Job, attempt: number): Record<string, unknown> {
  const d = job.data as { userId?: unknown; id?: unknown } | undefined;
  const who = typeof d?.userId === 'string' ? { userId: d.userId } : typeof d?.id === 'string' ? { itemId: d.id } : {};
  return { queue: kind.queue, ...(kind.title ? { title: kind.title } : {}), jobId: job.id, ...who, attempt };
}

/**
 * A failed attempt: `decide()` says retry or dead-letter; this logs it, counts it and throws what
 * makes BullMQ do that (an UnrecoverableError for a dead letter, the error with its delay otherwise).
 */
export async function failAttempt(deps: RunHandlerDeps, job: Job, attempt: number, started: number, err: unknown): Promise<never> {
  const { kind, log, queues } = deps;
  const outcome = decide(err, { ...kind, attempt, maxAttempts: job.opts.attempts ?? 1 });
  const message = outcome.kind === 'retry' && outcome.reason ? outcome.reason : describeThrown(err);
  activeSpan()?.setAttributes({
    'spotter.outcome': outcome.kind === 'dead-letter' ? 'dead_letter' : 'retry',
    'spotter.error': message,
  });
  const seconds = (Date.now() - started) / 1000;
  deps.observe?.(kind.queue, outcome.kind === 'dead-letter' ? 'dead_letter' : 'retry', seconds);
  const scope = scopeOf(kind, job, attempt);
  if (outcome.kind === 'dead-letter') {
    log.error({ ...scope, durationMs: Date.now() - started, reason: outcome.reason }, 'job failed for good; dead-lettering');
    const final = new UnrecoverableError(outcome.reason);
    if (err instanceof Error && err.stack) final.stack = `${outcome.reason}\n${err.stack.split('\n').slice(1).join('\n')}`;
    throw final;
  }
  log.warn({ ...scope, durationMs: Date.now() - started, err: message, retryInMs: outcome.delayMs }, 'job failed; will retry');
  // BullMQ overwrites processedOn on every attempt; keep the first one's start for the dead letter.
  if (attempt === 1) await stampFirstAttempt(queues, kind.queue, String(job.id), started);
  const e = (err instanceof Error && message === describeThrown(err) ? err : new Error(message)) as Error & RetryDelay;
  e.retryDelayMs = outcome.delayMs;
  throw e;
}
