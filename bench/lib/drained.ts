/** Waiting for a queue's jobs to be done, polled from Redis. */
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { sleep } from './clock.js';

/** Until the queue has nothing waiting, delayed or running. */
export async function waitIdle(q: Queue): Promise<void> {
  for (;;) {
    const c = await q.getJobCounts('waiting', 'prioritized', 'delayed', 'active');
    if ((c.waiting ?? 0) + (c.prioritized ?? 0) + (c.delayed ?? 0) + (c.active ?? 0) === 0) return;
    await sleep(20);
  }
}

/** Until `n` jobs of the queue have completed (both sides keep them), or the deadline. */
export async function waitDrained(conn: Redis, p: string, queue: string, n: number, timeoutMs = 600_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const done = await conn.zcard(`${p}:${queue}:completed`);
    if (done >= n) return;
    if (Date.now() > deadline) throw new Error(`${queue}: ${done}/${n} completed before the deadline`);
    await sleep(10);
  }
}
