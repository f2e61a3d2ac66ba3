/**
 * A worker that Redis refuses (out of memory under noeviction) is up but does no work: its /readyz
 * says so, naming Redis' reply code, and turns 200 again once Redis takes writes.
 */
import { Queue } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { freePort } from '../src/redis/local.js';
import { useProcessScenes } from './helpers/process-scene.js';
import { privateRedis } from './helpers/redis.js';
import { waitFor } from './helpers/wait-for.js';

const scene = useProcessScenes();

describe("a worker's readiness while Redis refuses its fetches", () => {
  it('is 503 naming the refusal, and 200 again once Redis takes writes', async () => {
    const r = await privateRedis({ appendonly: false });
    scene.onCleanup(() => r.dispose());
    const port = await freePort();
    const s = scene({ SPOTTER_JOBS_WORKER_HTTP_PORT: String(port) }, r.redis.url);
    const w = s.start(['worker', '--queues', 'sync']);
    const readyz = async () => {
      const res = await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(5000) }).catch(() => undefined);
      return { status: res?.status, body: (await res?.text()) ?? '' };
    };
    await waitFor('ready', async () => (await readyz()).status === 200);
    // Due in a moment: the worker's fetch that moves it to running is a write, which Redis refuses.
    const queue = new Queue('sync', { connection: s.conn, prefix: s.prefix });
    scene.onCleanup(() => queue.close());
    const job = await queue.add('user', { userId: 'u1', scheduledFor: Date.now(), tick: 't' }, { jobId: 't__u1', delay: 2000 });
    await s.conn.config('SET', 'maxmemory-policy', 'noeviction');
    await s.conn.config('SET', 'maxmemory', '1');
    expect(await job.getState()).toBe('delayed');
    const refused = await waitFor('503 naming the refusal', async () => {
      const r = await readyz();
      return r.status === 503 ? r.body : undefined;
    });
    expect(refused).toContain('Redis refuses this worker (sync: OOM)');
    await s.conn.config('SET', 'maxmemory', '0');
    await waitFor('ready again', async () => (await readyz()).status === 200, { timeoutMs: 15_000 });
    w.kill('SIGTERM');
    expect((await w.exited).code).toBe(0);
  });
});
