/**
 * The thin adapter between BullMQ and business code: turns a Job into `(userId, ctx)`, validates the
 * data, and lets `decide()` turn a thrown error into retry or dead-letter.
 */
import { type Job, type Processor, UnrecoverableError } from 'bullmq';
import type { Handler, HandlerContext } from '../handlers/types.js';
import { decide } from '../jobs/outcome.js';
import { userJobData, type WorkQueue } from '../jobs/registry.js';
import type { Logger } from '../logger.js';

/** Set on a retried error: the delay `decide()` chose, read back by the worker's backoff strategy. */
export interface RetryDelay {
  retryDelayMs?: number;
}

export interface RunHandlerDeps {
  queue: WorkQueue;
  handler: Handler;
  backoffMs: number;
  log: Logger;
  /** True once shutdown passed its deadline: aborted jobs are then left for another worker. */
  leaving: () => boolean;
  /**
   * The jobs this process is running, by id, each with its abort controller once the handler has asked
   * for `ctx.signal` (created on demand: most of the per-job cost of a no-op handler was this).
   */
  running: Map<string, AbortController | undefined>;
  /** Per-attempt outcome and duration, for the metrics. */
  observe?: (queue: WorkQueue, outcome: 'completed' | 'retry' | 'dead_letter', seconds: number) => void;
}

export function makeProcessor(deps: RunHandlerDeps): Processor {
  const { queue, handler, log } = deps;
  // One parameter only: BullMQ then creates no AbortController per job; ctx.signal makes its own lazily.
  return async (job: Job) => {
    const parsed = userJobData.safeParse(job.data);
    if (!parsed.success) {
      deps.observe?.(queue, 'dead_letter', 0);
      const issue = parsed.error.issues[0];
      throw new UnrecoverableError(`invalid job data: ${issue?.path.join('.') || 'data'}: ${issue?.message ?? 'does not validate'}`);
    }
    const { userId, scheduledFor } = parsed.data;

    const attempt = job.attemptsMade + 1;
    const scope = { queue, jobId: job.id, userId, attempt };
    // A child logger costs more than the job itself on a no-op handler; build it only if the handler asks.
    let child: Logger | undefined;
    const jobId = String(job.id);
    const ctx: HandlerContext = {
      jobId,
      attempt,
      queue,
      scheduledFor,
      get signal() {
        let c = deps.running.get(jobId);
        if (!c) {
          c = new AbortController();
          if (deps.leaving()) c.abort(new Error('shutdown deadline reached'));
          deps.running.set(jobId, c);
        }
        return c.signal;
      },
      get log() {
        child ??= log.child(scope);
        return child;
      },
      progress: (n) => job.updateProgress(n),
    };
    const started = Date.now();
    if (log.isLevelEnabled('debug')) log.debug(scope, 'job started');
    deps.running.set(jobId, undefined);
    try {
      const result = await handler(userId, ctx);
      deps.observe?.(queue, 'completed', (Date.now() - started) / 1000);
      log.info({ ...scope, durationMs: Date.now() - started }, 'job completed');
      return result ?? null;
    } catch (err) {
      if (deps.leaving()) {
        // Past the shutdown deadline: neither complete nor fail it. Its lock lapses and another
        // worker runs it again (at-least-once), which is why handlers get a stable jobId.
        return new Promise(() => {});
      }
      const outcome = decide(err, { attempt, maxAttempts: job.opts.attempts ?? 1, backoffMs: deps.backoffMs });
      const message = err instanceof Error ? err.message : String(err);
      deps.observe?.(queue, outcome.kind === 'dead-letter' ? 'dead_letter' : 'retry', (Date.now() - started) / 1000);
      if (outcome.kind === 'dead-letter') {
        log.error({ ...scope, durationMs: Date.now() - started, reason: outcome.reason }, 'job failed for good; dead-lettering');
        const final = new UnrecoverableError(outcome.reason);
        if (err instanceof Error && err.stack) final.stack = `${outcome.reason}\n${err.stack.split('\n').slice(1).join('\n')}`;
        throw final;
      }
      log.warn({ ...scope, durationMs: Date.now() - started, err: message, retryInMs: outcome.delayMs }, 'job failed; will retry');
      const e = (err instanceof Error ? err : new Error(message)) as Error & RetryDelay;
      e.retryDelayMs = outcome.delayMs;
      throw e;
    } finally {
      if (!deps.leaving()) deps.running.delete(jobId);
    }
  };
}
