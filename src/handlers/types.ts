/** What business code sees: a user id and a small context. Never a BullMQ Job. */
import type { WorkQueue } from '../jobs/registry.js';
import type { Logger } from '../logger.js';

export interface HandlerContext {
  /** Stable across retries and redeliveries: use it to make the work idempotent. */
  jobId: string;
  /** 1-based attempt number. */
  attempt: number;
  queue: WorkQueue;
  /** When the tick that produced this job was due (epoch ms). */
  scheduledFor: number;
  /** Fires when the worker shuts down past its deadline; stop and let another worker redo the job. */
  signal: AbortSignal;
  log: Logger;
  /** Reports progress (0..100), shown in Bull Board. */
  progress(n: number): Promise<void>;
}

export type Handler = (userId: string, ctx: HandlerContext) => Promise<unknown>;

/** Where users come from and what a per-user job does; exactly one mode is active. */
export interface Handlers {
  mode: 'http' | 'module' | 'demo';
  /** Pages of user ids, in a stable order. */
  listUsers(pageSize: number, signal?: AbortSignal): AsyncIterable<string[]>;
  run: Record<WorkQueue, Handler>;
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
