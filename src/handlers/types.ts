/** What business code sees: a user id, an item or nothing, and a small context. Never a BullMQ Job. */
import type { ParentRef } from '../jobs/registry.js';
import type { Subject } from '../jobs/subject.js';
import type { Logger } from '../telemetry/logger.js';
import type { ListPosition, UserPage } from './list-position.js';

export interface EnqueueOptions {
  /** Run it this many milliseconds from now. */
  delay?: number;
}

export interface HandlerContext {
  /** Stable across retries and redeliveries: use it to make the work idempotent. */
  jobId: string;
  /** 1-based attempt number. */
  attempt: number;
  /** The job's kind, and its queue (the same but for Spotter's write-back/writeback). */
  kind: string;
  queue: string;
  /** When the job was due: its tick's time, or when it was added (epoch ms). */
  scheduledFor: number;
  /** The job that added this one, when another job did. */
  parent: ParentRef | undefined;
  /** How deep in a chain this job is: 0 unless another job added it, then one more than that job. */
  depth: number;
  /**
   * Whose job this is: a user job's user, else the owner it was added with (or inherited from the
   * job that added it); undefined for a job without one. Jobs this one adds inherit it.
   */
  owner?: string;
  /**
   * Fires at the attempt's timeout, when the worker shuts down past its deadline, and when the worker
   * lost the job's lock or its user's exclusivity hold; stop, the job is retried or redone elsewhere.
   */
  signal: AbortSignal;
  log: Logger;
  /** Reports progress (0..100), shown in Bull Board. */
  progress(n: number): Promise<void>;
  /**
   * Adds a job of `kind` for `subject`. Its id is derived from this job, the kind and the subject, so
   * a retried or re-run handler adds each child once. Resolves with the child's job id.
   */
  enqueue(kind: string, subject?: Subject, opts?: EnqueueOptions): Promise<string>;
  /** Subject schedules of any user or item: create or replace, remove, list (docs/subject-schedules.md). */
  readonly schedules: HandlerSchedules;
}

/** A subject schedule as a handler asks for it; `user` or `item` as the kind's scope needs. */
export interface ScheduleRequest {
  kind: string;
  user?: string;
  item?: string;
  data?: unknown;
  /** A trigger: `at <ISO>`, a Go duration, cron, an RRULE, or English ("every weekday at 7:30"). */
  rule: string;
  tz?: string;
  name?: string;
  until?: string | number;
  count?: number;
}

/** A subject schedule as stored: `rule` is the trigger as understood; `next` null when paused or ended. */
export interface ScheduleSummary {
  id: string;
  kind: string;
  user?: string;
  item?: string;
  name: string;
  rule: string;
  tz: string;
  state: 'active' | 'paused' | 'ended';
  next: string | null;
}

export interface HandlerSchedules {
  /** Creates or replaces (same kind, subject and name); a bad request rejects with the reason. */
  add(schedule: ScheduleRequest): Promise<ScheduleSummary & { runs: string[] }>;
  /** True when it was there. */
  remove(id: string): Promise<boolean>;
  /** One subject's schedules, of every kind or of one. */
  list(subject: { user: string } | { item: string }, kind?: string): Promise<ScheduleSummary[]>;
}

/** A user kind's handler. */
export type UserHandler = (userId: string, ctx: HandlerContext) => Promise<unknown>;
/** A global kind's handler. */
export type GlobalHandler = (ctx: HandlerContext) => Promise<unknown>;
/** An item kind's handler. */
export type ItemHandler = (item: { id: string; data: unknown }, ctx: HandlerContext) => Promise<unknown>;
export type AnyHandler = UserHandler | GlobalHandler | ItemHandler;

/** Backwards-compatible name of the user handler. */
export type Handler = UserHandler;

/** Where users come from and what each kind's job does; exactly one mode is active. */
export interface Handlers {
  mode: 'http' | 'module' | 'demo';
  /** Pages of user ids, in a stable order. */
  listUsers(pageSize: number, signal?: AbortSignal): AsyncIterable<string[]>;
  /**
   * Pages from a position on, for sources with a cursor of their own (HTTP mode, a module whose
   * listUsers takes `{ cursor, limit }`): a tick resumed after its producer died asks for the next
   * page instead of listing again. Without it, fan-out lists again and skips (user-pages.ts).
   */
  listFrom?(from: ListPosition, pageSize: number, signal?: AbortSignal): AsyncIterable<UserPage>;
  /** By kind name; the worker calls each with the arguments of the kind's scope. */
  run: Record<string, AnyHandler>;
}

/** Groups any (async) iterable of ids into pages. */
export async function* paginate(ids: AsyncIterable<string> | Iterable<string>, pageSize: number): AsyncIterable<string[]> {
  let page: string[] = [];
  for await (const id of ids) {
    page.push(String(id));
    if (page.length >= pageSize) {
      yield page;
      page = [];
    }
  }
  if (page.length > 0) yield page;
}
