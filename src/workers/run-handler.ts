/**
 * The adapter between BullMQ and business code. Each attempt goes through four steps, each its own
 * function: validate the job's data, enter the kind's exclusivity group, run the handler against the
 * kind's deadline, and settle (the result to store, or `decide()`'s retry or dead-letter). The
 * handler's context and call shape are in `job-context.ts`, the failure path in `fail-attempt.ts`.
 */
import { type Job, type Processor, RateLimitError } from 'bullmq';
import type { ZodType } from 'zod';
import { formatDuration } from '../config/duration.js';
import type { KindConfig } from '../config/kind-config.js';
import { InvalidJobError, PermanentError } from '../jobs/errors.js';
import { type JobData, jobDataSchema, MAX_RESULT_BYTES, tickOf } from '../jobs/registry.js';
import { scripted } from '../redis/commands.js';
import { queueKey } from '../redis/keys.js';
import { activeSpan } from '../telemetry/tracing.js';
import { failAttempt, scopeOf } from './fail-attempt.js';
import { enterGroup, releaseWhenReturned } from './group-entry.js';
import { Hold, LockLostError } from './hold.js';
import { caller, JobContext, JobTimeoutError } from './job-context.js';
import { occurrenceStarted, runOf } from './occurrence-started.js';
import type { RunHandlerDeps } from './run-deps.js';
import type { SlotGate } from './slot-gate.js';

type Span = ReturnType<typeof activeSpan>;

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

/** Step 1: the job's data for its kind, or the error that dead-letters it (data never gets valid by retrying). */
function validate(schema: ZodType<JobData>, raw: unknown): JobData | InvalidJobError {
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  return new InvalidJobError(`invalid job data: ${issue?.path.join('.') || 'data'}: ${issue?.message ?? 'does not validate'}`);
}

/** BullMQ's span of this attempt, when tracing is on: who it ran for, never the data. */
function tagSpan(span: NonNullable<Span>, kind: KindConfig, jobId: string, attempt: number, data: JobData): void {
  const tick = tickOf(kind.name, jobId, data);
  span.setAttributes({
    'spotter.kind': kind.name,
    'spotter.attempt': attempt,
    ...('userId' in data ? { 'spotter.user_id': String(data.userId) } : {}),
    ...('id' in data ? { 'spotter.item_id': String(data.id) } : {}),
    ...(tick ? { 'spotter.tick_id': tick } : {}),
  });
}

/**
 * Step 2: the user's hold in the kind's exclusivity group, handed to `ctx` so losing it aborts the
 * run. Synchronous in the group's lane (no await per job); throws BullMQ's DelayedError when the
 * user is busy.
 */
function enterExclusivity(
  deps: RunHandlerDeps,
  group: string,
  job: Job,
  userId: string,
  token: string | undefined,
  span: Span,
  ctx: JobContext,
): Hold | Promise<Hold> {
  const entered = enterGroup(deps, job, group, userId, token, span);
  if (entered instanceof Hold) {
    entered.runner = ctx;
    return entered;
  }
  return entered.then((hold) => {
    hold.runner = ctx;
    return hold;
  });
}

/**
 * Step 3: the handler's promise against the kind's deadline, in every mode. At the deadline the
 * signal fires and the attempt fails, freeing the slot even if the handler ignores its signal (it is
 * then reported as overdue until it settles).
 */
async function runWithDeadline(timeoutMs: number, ctx: JobContext, pending: Promise<unknown>): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await new Promise((resolve, reject) => {
      timer = setTimeout(() => {
        ctx.timedOut = new JobTimeoutError(`timed out after ${formatDuration(timeoutMs)}`);
        ctx.controller?.abort(ctx.timedOut);
        reject(ctx.timedOut);
      }, timeoutMs);
      pending.then(resolve, reject);
    });
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Step 4, the handler returned in time: the result BullMQ stores. Checked after the attempt: a run
 * whose worker lost the job's lock or the user's hold meanwhile is not counted as completed
 * (BullMQ's stalled handling runs the job again).
 */
function settleReturned(result: unknown, ctx: JobContext, hold: Hold | undefined, span: Span): unknown {
  const value = checkResult(result);
  const lost = ctx.lostReason() ?? hold?.check();
  if (lost) throw lost;
  span?.setAttribute('spotter.outcome', 'completed');
  return value;
}

/** Step 4, the attempt failed or timed out: `decide()` makes it a retry or a dead letter. */
function settleFailed(deps: RunHandlerDeps, job: Job, ctx: JobContext, started: number, err: unknown, pending: Promise<unknown>) {
  if (deps.leaving()) {
    // Past the shutdown deadline: neither complete nor fail it. Its lock lapses and another
    // worker's stalled check runs it again (at-least-once, within lock + two stalled intervals),
    // which is why handlers get a stable jobId.
    return new Promise<never>(() => {});
  }
  if (err !== undefined && err === ctx.timedOut) {
    const { kind, log } = deps;
    const key = `${ctx.jobId}#${ctx.attempt}`;
    deps.overdue.set(key, { queue: kind.queue, jobId: ctx.jobId, attempt: ctx.attempt, since: Date.now() });
    log.warn({ ...scopeOf(kind, job, ctx.attempt), timeoutMs: kind.timeoutMs }, 'job timed out; its signal was aborted');
    const settled = () => deps.overdue.delete(key);
    pending.then(settled, settled);
  }
  return failAttempt(deps, job, ctx.attempt, started, err);
}

/** The slot, the running entry and the hold, given back however the attempt ended. */
function release(deps: RunHandlerDeps, job: Job, ctx: JobContext, hold: Hold | undefined, pending: Promise<unknown>): void {
  if (hold) releaseWhenReturned(deps, job, ctx.attempt, hold, pending);
  deps.lostLocks?.delete(ctx.jobId);
  if (deps.slots) deps.slots.busy--;
  if (!deps.leaving() && deps.running.get(ctx.jobId) === ctx.controller) deps.running.delete(ctx.jobId);
}

/**
 * The handler's promise, whatever it returned: a module may export a plain function that returns a
 * value or throws before returning, and both must settle like an async handler's promise.
 */
function invoke(call: ReturnType<typeof caller>, data: JobData, ctx: JobContext): Promise<unknown> {
  try {
    return Promise.resolve(call(data, ctx));
  } catch (err) {
    return Promise.reject(err);
  }
}

export function makeProcessor(deps: RunHandlerDeps): Processor {
  const { kind } = deps;
  const schema = jobDataSchema(kind);
  const call = caller(kind, deps.handler);
  const group = kind.exclusive && deps.exclusivity ? kind.exclusive : undefined;
  const attempt = attemptIn(deps, call, schema, group);
  const gate = deps.gate;
  if (!gate) return attempt;
  // Two parameters at most: BullMQ then creates no AbortController per job; ctx.signal makes its own lazily.
  return async (job: Job, token?: string) => {
    const jobId = String(job.id);
    const slot = gate.enter(jobId);
    if (slot !== true) {
      const got = await slot;
      // Its lock lapsed while it waited (the consumer saw the renewal fail): another worker may have it.
      const lost = deps.lostLocks?.delete(jobId) === true;
      if (!got) return giveBack(deps, gate, jobId);
      if (lost) {
        gate.leave(jobId, 0);
        throw new LockLostError('lost its job lock while it waited for a slot; another worker may run it');
      }
      // It waited: its durations (metrics, log, history) count from its slot, not from its fetch.
      // Only this copy changes; the board keeps BullMQ's fetch time.
      job.processedOn = Date.now();
    }
    const sampled = gate.sample();
    try {
      return await attempt(job, token);
    } finally {
      gate.leave(jobId, sampled);
    }
  };
}

/**
 * A job fetched ahead that found no slot in time, or a worker closing: back to the front of the
 * queue, as BullMQ does with a job its processor says is rate limited, and the gate fetches no more
 * ahead for now, so the job is left to a worker with a free slot. Its fetch is taken back from the
 * job's starts (a dead letter shows them); a failure to do so only leaves the count one high.
 */
async function giveBack(deps: RunHandlerDeps, gate: SlotGate, jobId: string): Promise<never> {
  gate.gaveBack();
  const key = queueKey(deps.queues.prefix, deps.kind.queue, jobId);
  await scripted(deps.queues.conn)
    .sjFieldIfExists(key, 'incr', 'ats', '-1')
    .catch(() => undefined);
  throw new RateLimitError();
}

/** One attempt of a job, from its data to its settling. */
function attemptIn(deps: RunHandlerDeps, call: ReturnType<typeof caller>, schema: ZodType<JobData>, group: string | undefined) {
  const { kind, log } = deps;
  return async (job: Job, token?: string) => {
    const attempt = job.attemptsMade + 1;
    const jobId = String(job.id);
    const started = Date.now();
    const run = runOf(job);
    if (run) {
      const verdict = await occurrenceStarted(deps, job, run, started, attempt);
      if (verdict !== 'run') return { skipped: verdict };
    }
    const data = validate(schema, job.data);
    const span = activeSpan();
    if (data instanceof InvalidJobError) return failAttempt(deps, job, attempt, started, data);
    if (span) tagSpan(span, kind, jobId, attempt, data);
    const ctx = new JobContext(deps, job, jobId, attempt, data);
    let hold: Hold | undefined;
    if (group && 'userId' in data) {
      const entered = enterExclusivity(deps, group, job, data.userId, token, span, ctx);
      hold = entered instanceof Hold ? entered : await entered;
    }
    if (log.isLevelEnabled('debug')) log.debug(scopeOf(kind, job, attempt), 'job started');
    deps.running.set(jobId, undefined);
    if (deps.slots) deps.slots.busy++;
    const pending = invoke(call, data, ctx);
    try {
      return settleReturned(await runWithDeadline(kind.timeoutMs, ctx, pending), ctx, hold, span);
    } catch (err) {
      return settleFailed(deps, job, ctx, started, err, pending);
    } finally {
      release(deps, job, ctx, hold, pending);
    }
  };
}
