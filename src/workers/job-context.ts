/**
 * What a handler gets as `ctx`, and how it is called: one call shape per scope (`(userId, ctx)`,
 * `(ctx)` or `({ id, data }, ctx)`), chosen once per kind.
 */
import type { Job } from 'bullmq';
import type { KindConfig } from '../config/kind-config.js';
import type { AnyHandler, GlobalHandler, HandlerContext, HandlerSchedules, ItemHandler, UserHandler } from '../handlers/types.js';
import { addJob, childJobId } from '../jobs/add-job.js';
import { InvalidJobError } from '../jobs/errors.js';
import { ownerOf } from '../jobs/owner.js';
import { type JobData, kindByName, type ParentRef } from '../jobs/registry.js';
import type { Logger } from '../telemetry/logger.js';
import { scopeOf } from './fail-attempt.js';
import { handlerSchedules } from './handler-schedules.js';
import { LockLostError } from './hold.js';
import type { RunHandlerDeps } from './run-deps.js';

/** The attempt ran past the kind's timeout: retried like any passing failure. */
export class JobTimeoutError extends Error {
  override name = 'JobTimeoutError';
}

export type Call = (data: JobData, ctx: HandlerContext) => Promise<unknown>;

/** One call shape per scope, chosen once per kind rather than per job. */
export function caller(kind: KindConfig, handler: AnyHandler): Call {
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
export class JobContext implements HandlerContext {
  readonly kind: string;
  readonly queue: string;
  readonly scheduledFor: number;
  readonly parent: ParentRef | undefined;
  /** Whose job this is: its user, or the owner it was added for (owner.ts); children inherit it. */
  readonly owner: string | undefined;
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
    this.owner = ownerOf(data);
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
      const target = kindByName(queues.catalog, name);
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
        owner: this.owner,
      });
    };
  }

  get schedules(): HandlerSchedules {
    return handlerSchedules(this.deps.queues);
  }
}
