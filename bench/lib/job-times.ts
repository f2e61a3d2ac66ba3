/** When a queue's completed jobs started and finished, read back from their hashes in Redis. */
import type { Redis } from 'ioredis';

export interface JobTimes {
  /** `from` → the last job finished. */
  lastMs: number;
  /** `from` → the first job started. */
  firstMs: number;
  /** A job's mean time from fetched to finished: its handler, and the worker's time around it. */
  slotMs: number;
}

/** Over every completed job of the queue (BullMQ's processedOn and finishedOn), relative to `from`. */
export async function jobTimes(conn: Redis, p: string, queue: string, from: number): Promise<JobTimes> {
  const ids = await conn.zrange(`${p}:${queue}:completed`, 0, -1);
  const pipe = conn.pipeline();
  for (const id of ids) pipe.hmget(`${p}:${queue}:${id}`, 'processedOn', 'finishedOn');
  const rows = ((await pipe.exec()) ?? []).map(([, v]) => (v as string[]).map(Number) as [number, number]);
  let first = Number.POSITIVE_INFINITY;
  let last = 0;
  let busy = 0;
  for (const [started, finished] of rows) {
    first = Math.min(first, started);
    last = Math.max(last, finished);
    busy += finished - started;
  }
  return { lastMs: last - from, firstMs: first - from, slotMs: busy / Math.max(1, rows.length) };
}
