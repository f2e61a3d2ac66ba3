/**
 * The thin adapter between BullMQ and business code: turns a Job into the handler's arguments for
 * its kind's scope (`(userId, ctx)`, `(ctx)` or `({ id, data }, ctx)`), validates the data, and lets
 * `decide()` turn whatever was thrown, invalid data included, into retry or dead-letter.
 */
import type { Job, Processor } from 'bullmq';
import { formatDuration } from '../config/duration.js';
import type { KindConfig } from '../config/kind-config.js';
import type { AnyHandler, GlobalHandler, HandlerContext, ItemHandler, UserHandler } from '../handlers/types.js';
import { addJob, childJobId } from '../jobs/add-job.js';
import { InvalidJobError, PermanentError } from '../jobs/errors.js';
import { type JobData, jobDataSchema, kindByName, MAX_RESULT_BYTES, type ParentRef, tickOf } from '../jobs/registry.js';
import type { Logger } from '../telemetry/logger.js';
import { activeSpan } from '../telemetry/tracing.js';
import { failAttempt, scopeOf } from './fail-attempt.js';
import { enterGroup, releaseWhenReturned } from './group-entry.js';
import { Hold, LockLostError } from './hold.js';
import type { RunHandlerDeps } from './run-deps.js';

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
  /** Set when the worker lost the job's lock or its exclusivity hold: the run must stop and not complete. */
  lost: LockLostError | undefined;
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
      const ended = this.timedOut ?? this.lostReason();
      if (ended) this.controller.abort(ended);
      else {
        if (this.deps.leaving()) this.controller.abort(new Error('shutdown deadline reached'));
        this.deps.running.set(this.jobId, this.controller);
      }
    }
    return this.controller.signal;
  }

  /** Why the run must stop and not complete: the worker lost the job's lock or the user's hold. */
  lostReason(): LockLostError | undefined {
    if (!this.lost && this.deps.lostLocks?.has(this.jobId)) this.lost = new LockLostError('lost its job lock; another worker may run it');
    return this.lost;
  }

  lose(err: LockLostError): void {
    this.lost ??= err;
    this.controller?.abort(err);
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
    let hold: Hold | undefined;
    if (group && 'userId' in data) {
      const entered = enterGroup(deps, job, group, (data as { userId: string }).userId, token, span);
      hold = entered instanceof Hold ? entered : await entered;
      hold.runner = ctx;
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
      // Checked after the attempt: a run whose worker lost the job's lock or the user's hold
      // meanwhile is not counted as completed (BullMQ's stalled handling runs the job again).
      const lost = ctx.lostReason() ?? hold?.check();
      if (lost) throw lost;
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
      if (hold) releaseWhenReturned(deps, job, attempt, hold, pending);
      deps.lostLocks?.delete(jobId);
      clearTimeout(timer);
      if (deps.slots) deps.slots.busy--;
      if (!deps.leaving() && deps.running.get(jobId) === ctx.controller) deps.running.delete(jobId);
    }
  };
}
