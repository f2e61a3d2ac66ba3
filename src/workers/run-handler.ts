/**
 * The thin adapter between BullMQ and business code: turns a Job into the handler's arguments for
 * its kind's scope (`(userId, ctx)`, `(ctx)` or `({ id, data }, ctx)`), validates the data, and lets
 * `decide()` turn whatever was thrown, invalid data included, into retry or dead-letter.
 */
import { DelayedError, type Job, type Processor, UnrecoverableError } from 'bullmq';
import { formatDuration } from '../duration.js';
import type { AnyHandler, GlobalHandler, HandlerContext, ItemHandler, UserHandler } from '../handlers/types.js';
import { addJob, childJobId } from '../jobs/add-job.js';
import { describeThrown, InvalidJobError, PermanentError } from '../jobs/errors.js';
import type { KindConfig } from '../jobs/kinds.js';
import { decide } from '../jobs/outcome.js';
import { type Queues, queueKey } from '../jobs/queues.js';
import { type JobData, jobDataSchema, kindByName, MAX_RESULT_BYTES, type ParentRef, tickOf } from '../jobs/registry.js';
import type { Logger } from '../logger.js';
import { FIRST_ATTEMPT_FIELD } from '../services/dead-letters.js';
import { activeSpan } from '../tracing.js';
import type { Exclusivity } from './exclusivity.js';

/** Set on a retried error: the delay `decide()` chose, read back by the worker's backoff strategy. */
export interface RetryDelay {
  retryDelayMs?: number;
}

export interface RunHandlerDeps {
  kind: KindConfig;
  handler: AnyHandler;
  /** For `ctx.enqueue`: the queue handles and, through them, the catalog. */
  queues: Queues;
  log: Logger;
  /** True once shutdown passed its deadline: aborted jobs are then left for another worker. */
  leaving: () => boolean;
  /**
   * The jobs this process is running, by id, each with its abort controller once the handler has asked
   * for `ctx.signal` (created on demand: most of the per-job cost of a no-op handler was this).
   */
  running: Map<string, AbortController | undefined>;
  /** Per-attempt outcome and duration, for the metrics (completions are counted once stored, by the consumer). */
  observe?: (queue: string, outcome: 'completed' | 'retry' | 'dead_letter', seconds: number) => void;
  /** Attempts that timed out while their handler, ignoring its signal, still runs; by `jobId#attempt`. */
  overdue: Map<string, Overdue>;
  /** Per-user exclusivity groups; needed when the kind has one. */
  exclusivity?: Exclusivity;
  /** This queue's slots in use, for the concurrency-in-use metric. */
  slots?: { busy: number };
}

/** How long a job waits before it looks again at a user its group is busy with. */
const EXCLUSIVE_RETRY_MS = 250;

export interface Overdue {
  queue: string;
  jobId: string;
  attempt: number;
  /** When the attempt timed out (epoch ms). */
  since: number;
}

/** The attempt ran past the kind's timeout: retried like any passing failure. */
export class JobTimeoutError extends Error {
  override name = 'JobTimeoutError';
}

/** A result BullMQ could not store, or should not: not JSON, or larger than MAX_RESULT_BYTES. */
export function checkResult(result: unknown): unknown {
  const value = result ?? null;
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch (err) {
    throw new PermanentError(`the result is not JSON: ${(err as Error).message}`);
  }
  if (json === undefined) throw new PermanentError(`the result is not JSON: a ${typeof value}`);
  // Characters are a lower bound of bytes; count bytes only when it could matter.
  const bytes = json.length * 3 > MAX_RESULT_BYTES ? Buffer.byteLength(json) : json.length;
  if (bytes > MAX_RESULT_BYTES) throw new PermanentError(`the result is ${bytes} bytes as JSON; at most ${MAX_RESULT_BYTES}`);
  return value;
}

type Call = (data: JobData, ctx: HandlerContext) => Promise<unknown>;

/** One call shape per scope, chosen once per kind rather than per job. */
function caller(kind: KindConfig, handler: AnyHandler): Call {
  switch (kind.scope) {
    case 'user':
      return (d, ctx) => (handler as UserHandler)((d as { userId: string }).userId, ctx);
    case 'global':
      return (_d, ctx) => (handler as GlobalHandler)(ctx);
    case 'item':
      return (d, ctx) => (handler as ItemHandler)({ id: (d as { id: string }).id, data: (d as { data: unknown }).data }, ctx);
  }
}

/**
 * What a handler gets as `ctx`. A class, so a job costs one object: its logger, signal, `progress` and
 * `enqueue` are made only when the handler asks for them (closures per job were a measurable share
 * of a no-op job's cost).
 */
class JobContext implements HandlerContext {
  readonly kind: string;
  readonly queue: string;
  readonly scheduledFor: number;
  readonly parent: ParentRef | undefined;
  controller: AbortController | undefined;
  timedOut: JobTimeoutError | undefined;
  private child: Logger | undefined;

  constructor(
    private readonly deps: RunHandlerDeps,
    private readonly job: Job,
    readonly jobId: string,
    readonly attempt: number,
    data: JobData,
    readonly depth = data.depth ?? 0,
  ) {
    this.kind = deps.kind.name;
    this.queue = deps.kind.queue;
    this.scheduledFor = data.scheduledFor;
    this.parent = data.parent;
  }

  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.timedOut) this.controller.abort(this.timedOut);
      else {
        if (this.deps.leaving()) this.controller.abort(new Error('shutdown deadline reached'));
        this.deps.running.set(this.jobId, this.controller);
      }
    }
    return this.controller.signal;
  }

  get log(): Logger {
    this.child ??= this.deps.log.child(scopeOf(this.deps.kind, this.job, this.attempt));
    return this.child;
  }

  // Getters that return functions, so `const { progress } = ctx` works as it did with a plain object.
  get progress(): (n: number) => Promise<void> {
    return (n) => this.job.updateProgress(n);
  }

  get enqueue(): HandlerContext['enqueue'] {
    return async (name, subject, opts) => {
      const { kind, queues } = this.deps;
      const target = kindByName(queues.settings, name);
      if (!target) throw new InvalidJobError(`cannot add a job of kind "${name}": no such kind in the catalog`);
      if (kind.followUps && !kind.followUps.includes(name)) {
        throw new InvalidJobError(`cannot add a job of kind "${name}" from ${kind.name}: its followUps are ${kind.followUps.join(', ')}`);
      }
      return addJob(queues, {
        kind: target,
        subject,
        jobId: childJobId(kind.queue, this.jobId, target, subject),
        scheduledFor: Date.now() + (opts?.delay ?? 0),
        parent: { kind: kind.name, jobId: this.jobId },
        depth: this.depth + 1,
        delayMs: opts?.delay,
        coalesce: true,
      });
    };
  }
}

/** The fields every log line about this attempt carries; built only for a line that is written. */
function scopeOf(kind: KindConfig, job: Job, attempt: number): Record<string, unknown> {
  const d = job.data as { userId?: unknown; id?: unknown } | undefined;
  const who = typeof d?.userId === 'string' ? { userId: d.userId } : typeof d?.id === 'string' ? { itemId: d.id } : {};
  return { queue: kind.queue, ...(kind.title ? { title: kind.title } : {}), jobId: job.id, ...who, attempt };
}

/**
 * A failed attempt: `decide()` says retry or dead-letter; this logs it, counts it and throws what
 * makes BullMQ do that (an UnrecoverableError for a dead letter, the error with its delay otherwise).
 */
async function failAttempt(deps: RunHandlerDeps, job: Job, attempt: number, started: number, err: unknown): Promise<never> {
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
  // Only on a failed first attempt, so a job that succeeds costs nothing more.
  if (attempt === 1)
    await queues.conn
      .hset(queueKey(queues.settings.prefix, kind.queue, String(job.id)), FIRST_ATTEMPT_FIELD, String(started))
      .catch(() => {});
  const e = (err instanceof Error && message === describeThrown(err) ? err : new Error(message)) as Error & RetryDelay;
  e.retryDelayMs = outcome.delayMs;
  throw e;
}

export function makeProcessor(deps: RunHandlerDeps): Processor {
  const { kind, log } = deps;
  const queue = kind.queue;
  const schema = jobDataSchema(kind);
  const call = caller(kind, deps.handler);
  const group = kind.exclusive && deps.exclusivity ? kind.exclusive : undefined;
  // Two parameters at most: BullMQ then creates no AbortController per job; ctx.signal makes its own lazily.
  return async (job: Job, token?: string) => {
    const attempt = job.attemptsMade + 1;
    const jobId = String(job.id);
    const started = Date.now();
    const parsed = schema.safeParse(job.data);
    // BullMQ's span of this attempt, when tracing is on: who it ran for and how it ended, never the data.
    const span = activeSpan();
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return failAttempt(
        deps,
        job,
        attempt,
        started,
        new InvalidJobError(`invalid job data: ${issue?.path.join('.') || 'data'}: ${issue?.message ?? 'does not validate'}`),
      );
    }
    const data = parsed.data;
    const tick = span && tickOf(kind.name, jobId, data);
    span?.setAttributes({
      'spotter.kind': kind.name,
      'spotter.attempt': attempt,
      ...('userId' in data ? { 'spotter.user_id': String(data.userId) } : {}),
      ...('id' in data ? { 'spotter.item_id': String(data.id) } : {}),
      ...(tick ? { 'spotter.tick_id': tick } : {}),
    });
    const ctx = new JobContext(deps, job, jobId, attempt, data);
    let release: (() => Promise<void>) | undefined;
    if (group && 'userId' in data) {
      // In the group's lane (the kind alone in it) this is synchronous: no Redis call per job.
      const entered = deps.exclusivity?.enter(group, kind.name, (data as { userId: string }).userId, jobId);
      release = typeof entered === 'function' ? entered : await entered;
      if (!release) {
        // Another job of the group runs for this user: wait, without using an attempt.
        if (log.isLevelEnabled('debug'))
          log.debug({ ...scopeOf(kind, job, attempt), group }, 'user busy in its exclusivity group; waiting');
        span?.setAttributes({ 'spotter.outcome': 'waiting', 'spotter.exclusive': group });
        await job.moveToDelayed(Date.now() + EXCLUSIVE_RETRY_MS + Math.floor(Math.random() * EXCLUSIVE_RETRY_MS), token);
        throw new DelayedError();
      }
    }
    if (log.isLevelEnabled('debug')) log.debug(scopeOf(kind, job, attempt), 'job started');
    deps.running.set(jobId, undefined);
    if (deps.slots) deps.slots.busy++;
    // Every mode gets the kind's deadline: at it the signal fires and the attempt fails, freeing the
    // slot even if the handler ignores its signal (it is then reported as overdue until it settles).
    let timer: NodeJS.Timeout | undefined;
    const pending = call(data, ctx);
    try {
      const result = checkResult(
        await new Promise((resolve, reject) => {
          timer = setTimeout(() => {
            ctx.timedOut = new JobTimeoutError(`timed out after ${formatDuration(kind.timeoutMs)}`);
            ctx.controller?.abort(ctx.timedOut);
            reject(ctx.timedOut);
          }, kind.timeoutMs);
          pending.then(resolve, reject);
        }),
      );
      span?.setAttribute('spotter.outcome', 'completed');
      return result;
    } catch (err) {
      if (deps.leaving()) {
        // Past the shutdown deadline: neither complete nor fail it. Its lock lapses and another
        // worker's stalled check runs it again (at-least-once, within lock + stalled interval),
        // which is why handlers get a stable jobId.
        return new Promise(() => {});
      }
      if (err !== undefined && err === ctx.timedOut) {
        const key = `${jobId}#${attempt}`;
        deps.overdue.set(key, { queue, jobId, attempt, since: Date.now() });
        log.warn({ ...scopeOf(kind, job, attempt), timeoutMs: kind.timeoutMs }, 'job timed out; its signal was aborted');
        pending.then(
          () => deps.overdue.delete(key),
          () => deps.overdue.delete(key),
        );
      }
      return failAttempt(deps, job, attempt, started, err);
    } finally {
      // Not awaited: sent on the same connection ahead of BullMQ's own completion, so it costs the
      // job no round trip; the key lapses with the job lock if it is lost.
      release?.().catch((err: Error) =>
        log.warn({ ...scopeOf(kind, job, attempt), err: err.message }, 'could not release the exclusivity key; it lapses'),
      );
      clearTimeout(timer);
      if (deps.slots) deps.slots.busy--;
      if (!deps.leaving() && deps.running.get(jobId) === ctx.controller) deps.running.delete(jobId);
    }
  };
}
