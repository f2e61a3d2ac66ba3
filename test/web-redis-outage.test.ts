/** The web surface during a Redis outage: it answers 503 instead of waiting for Redis, and /metrics keeps answering. */
import { afterEach, describe, expect, it } from 'vitest';
import { Queues } from '../src/jobs/queues.js';
import { targetOf, webConnection, whenReady } from '../src/redis/connection.js';
import { DeadLetters } from '../src/services/dead-letters/index.js';
import { createApp } from '../src/web/app.js';
import { createRegistry, registerClusterMetrics } from '../src/web/metrics.js';
import { listen } from '../src/web/server.js';
import { type Harness, harness } from './helpers/harness.js';
import { useProcessScenes } from './helpers/process-scene.js';
import { raw } from './helpers/raw-http.js';
import { privateRedis } from './helpers/redis.js';
import { waitFor } from './helpers/wait-for.js';
import { basic } from './helpers/web.js';

const open: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of open.splice(0).reverse()) await c();
});

describe('a Redis outage, in process', () => {
  it('answers 503 while Redis is paused or stopped instead of waiting for it, and /metrics still answers with redis_up 0', async () => {
    const r = await privateRedis({ appendonly: false });
    open.push(() => r.dispose());
    const password = 'pw-for-outage';
    const x: Harness = await harness({ REDIS_URL: r.redis.url, SPOTTER_JOBS_BOARD_PASSWORD: password });
    open.push(() => x.dispose());
    // As `serve` builds it: the web surface reads through a fail-fast connection of its own.
    const conn = webConnection(targetOf(x.config), 'test:web');
    await whenReady(conn);
    const queues = new Queues(conn, x.config, x.log);
    open.push(async () => {
      await queues.close();
      conn.disconnect();
    });
    const registry = createRegistry();
    registerClusterMetrics(registry, queues, x.config);
    const app = createApp({
      config: x.config,
      queues,
      deadLetters: new DeadLetters(queues, x.config),
      registry,
      log: x.log,
      readiness: async () => ({ ready: true, checks: {} }),
    });
    const web = await listen(app, '127.0.0.1', 0);
    open.push(() => web.close());
    const auth = { authorization: basic('admin', password) };
    expect((await raw(`${web.url}/api/schedules`, { headers: auth })).status).toBe(200);
    expect((await raw(`${web.url}/metrics`)).body).toMatch(/^spotter_jobs_redis_up 1$/m);

    for (const outage of ['paused', 'stopped'] as const) {
      if (outage === 'paused') process.kill(r.redis.pid as number, 'SIGSTOP');
      else {
        process.kill(r.redis.pid as number, 'SIGCONT');
        await r.redis.stop('SIGKILL');
      }
      for (const path of ['/', '/api/schedules', '/api/dead-letter', '/board/api/queues']) {
        // Redis stays down until after the loop: an answer at all is one that did not wait for Redis.
        const res = await raw(`${web.url}${path}`, { headers: auth });
        expect(res.status, `${outage} ${path}`).toBe(503);
        expect(res.body).toMatch(/Redis/);
      }
      const m = await raw(`${web.url}/metrics`);
      expect(m.status, outage).toBe(200);
      expect(m.body).toMatch(/^spotter_jobs_redis_up 0$/m);
      expect(m.body).toContain('spotter_jobs_process_cpu_seconds_total');
    }
    // Back again: the same connection serves again, and the harness can clean up.
    await r.restart();
    await waitFor('pages served again', async () => (await raw(`${web.url}/api/schedules`, { headers: auth })).status === 200, {
      timeoutMs: 15_000,
    });
  });
});

describe('a Redis outage, in a real producer process', () => {
  const scene = useProcessScenes();
  it('serves 503 from the producer while Redis is paused, and recovers', async () => {
    const r = await privateRedis({ appendonly: false });
    scene.onCleanup(() => r.dispose());
    const s = scene({ SPOTTER_JOBS_HANDLERS: '', SPOTTER_JOBS_DEMO_USERS: '3' }, r.redis.url);
    const p = s.start(['producer']);
    const line = await p.waitForLog((l) => typeof l.board === 'string', 'board url');
    const url = String(line.url);
    expect((await raw(`${url}/api/schedules`)).status).toBe(200);
    process.kill(r.redis.pid as number, 'SIGSTOP');
    try {
      for (const path of ['/api/schedules', '/', '/board/api/queues']) {
        const res = await raw(`${url}${path}`);
        expect(res.status, path).toBe(503);
      }
      const m = await raw(`${url}/metrics`);
      expect(m.status).toBe(200);
      expect(m.body).toMatch(/^spotter_jobs_redis_up 0$/m);
    } finally {
      process.kill(r.redis.pid as number, 'SIGCONT');
    }
    await waitFor('served again', async () => (await raw(`${url}/api/schedules`)).status === 200);
  });
});
