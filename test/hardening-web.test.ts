/** The web surface under a careless or hostile client, and during a Redis outage (hardening 9–12). */
import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { Queues } from '../src/jobs/queues.js';
import { targetOf, webConnection, whenReady } from '../src/redis/connection.js';
import { DeadLetters } from '../src/services/dead-letters.js';
import { createLogger } from '../src/telemetry/logger.js';
import { createApp } from '../src/web/app.js';
import { createRegistry, registerClusterMetrics } from '../src/web/metrics.js';
import { listen } from '../src/web/server.js';
import { type Harness, harness } from './helpers/harness.js';
import { useProcessScenes } from './helpers/process-scene.js';
import { privateRedis } from './helpers/redis.js';
import { waitFor } from './helpers/wait-for.js';
import { basic, serveApp } from './helpers/web.js';

const open: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of open.splice(0).reverse()) await c();
});

async function setup(env: Record<string, string> = {}) {
  const x = await harness(env);
  open.push(() => x.dispose());
  const web = await serveApp(x);
  return { x, web };
}

/** A raw request, so the Host header is whatever the client says. */
function raw(url: string, opts: { method?: string; host?: string; headers?: Record<string, string>; body?: string; timeoutMs?: number }) {
  const u = new URL(url);
  return new Promise<{ status: number; body: string; ms: number }>((resolve, reject) => {
    const t0 = Date.now();
    const req = request(
      {
        host: u.hostname,
        port: u.port,
        path: u.pathname + u.search,
        method: opts.method ?? 'GET',
        headers: { ...(opts.host ? { host: opts.host } : {}), ...opts.headers },
        timeout: opts.timeoutMs ?? 10_000,
      },
      (res) => {
        let body = '';
        res.on('data', (d) => {
          body += d;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, ms: Date.now() - t0 }));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${opts.timeoutMs ?? 10_000} ms`)));
    req.on('error', reject);
    req.end(opts.body);
  });
}

describe('9. DNS rebinding in loopback mode', () => {
  it('answers only loopback Host names when there is no password', async () => {
    const { web } = await setup();
    const port = new URL(web.url).port;
    const evil = await raw(`${web.url}/api/schedules/sync/run`, {
      method: 'POST',
      host: `evil.example:${port}`,
      headers: { origin: `http://evil.example:${port}`, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(evil.status).toBe(421);
    for (const path of ['/', '/board/api/queues', '/api/dead-letter']) {
      expect((await raw(`${web.url}${path}`, { host: `evil.example:${port}` })).status, path).toBe(421);
    }
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`]) {
      expect((await raw(`${web.url}/api/schedules`, { host })).status, host).toBe(200);
    }
  });

  it('also answers the Host names the operator lists', async () => {
    const { web } = await setup({ SPOTTER_JOBS_ALLOWED_HOSTS: 'jobs.home.arpa' });
    const port = new URL(web.url).port;
    expect((await raw(`${web.url}/api/schedules`, { host: `jobs.home.arpa:${port}` })).status).toBe(200);
    expect((await raw(`${web.url}/api/schedules`, { host: `other.home.arpa:${port}` })).status).toBe(421);
  });
});

describe('10. read-only means read-only everywhere', () => {
  it('refuses the API writes too', async () => {
    const { web } = await setup({ SPOTTER_JOBS_BOARD_READ_ONLY: 'true' });
    const json = { 'content-type': 'application/json' };
    expect((await raw(`${web.url}/api/dead-letter`, { method: 'DELETE' })).status).toBe(403);
    expect((await raw(`${web.url}/api/dead-letter/replay`, { method: 'POST', headers: json, body: '{"all":true}' })).status).toBe(403);
    expect((await raw(`${web.url}/api/schedules/sync/run`, { method: 'POST', headers: json, body: '{}' })).status).toBe(403);
    expect((await raw(`${web.url}/api/schedules`, {})).status).toBe(200);
  });
});

describe('12. bad bodies', () => {
  it('answers 413 to an oversized body and 400 to malformed JSON, without an error log', async () => {
    const lines: string[] = [];
    const log = createLogger({ level: 'info', destination: { write: (l: string) => lines.push(l) } as unknown as NodeJS.WritableStream });
    const x = await harness({}, { log });
    open.push(() => x.dispose());
    const web = await serveApp(x);
    const json = { 'content-type': 'application/json' };
    const big = await raw(`${web.url}/api/dead-letter/replay`, {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ ids: ['x'.repeat(100_000)] }),
    });
    expect(big.status).toBe(413);
    const bad = await raw(`${web.url}/api/dead-letter/replay`, { method: 'POST', headers: json, body: '{"ids": [' });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatch(/JSON/);
    expect(lines.filter((l) => JSON.parse(l).level >= 50)).toEqual([]);
  });
});

describe('11. a Redis outage', () => {
  it('answers 503 within about 2 s instead of hanging, and /metrics still answers with redis_up 0', async () => {
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
    expect((await raw(`${web.url}/metrics`, {})).body).toMatch(/^spotter_jobs_redis_up 1$/m);

    for (const outage of ['paused', 'stopped'] as const) {
      if (outage === 'paused') process.kill(r.redis.pid as number, 'SIGSTOP');
      else {
        process.kill(r.redis.pid as number, 'SIGCONT');
        await r.redis.stop('SIGKILL');
      }
      for (const path of ['/', '/api/schedules', '/api/dead-letter', '/board/api/queues']) {
        const res = await raw(`${web.url}${path}`, { headers: auth, timeoutMs: 8000 });
        expect(res.status, `${outage} ${path}`).toBe(503);
        expect(res.ms, `${outage} ${path}`).toBeLessThan(3000);
        expect(res.body).toMatch(/Redis/);
      }
      const m = await raw(`${web.url}/metrics`, { timeoutMs: 8000 });
      expect(m.status, outage).toBe(200);
      expect(m.ms).toBeLessThan(3000);
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

describe('11. a Redis outage, in a real producer process', () => {
  const scene = useProcessScenes();
  it('serves 503 in time from the producer while Redis is paused, and recovers', async () => {
    const r = await privateRedis({ appendonly: false });
    scene.onCleanup(() => r.dispose());
    const s = scene({ SPOTTER_JOBS_HANDLERS: '', SPOTTER_JOBS_DEMO_USERS: '3' }, r.redis.url);
    const p = s.start(['producer']);
    const line = await p.waitForLog((l) => typeof l.board === 'string', 'board url');
    const url = String(line.url);
    expect((await raw(`${url}/api/schedules`, {})).status).toBe(200);
    process.kill(r.redis.pid as number, 'SIGSTOP');
    try {
      for (const path of ['/api/schedules', '/', '/board/api/queues']) {
        const res = await raw(`${url}${path}`, { timeoutMs: 8000 });
        expect(res.status, path).toBe(503);
        expect(res.ms, path).toBeLessThan(3000);
      }
      const m = await raw(`${url}/metrics`, { timeoutMs: 8000 });
      expect(m.status).toBe(200);
      expect(m.body).toMatch(/^spotter_jobs_redis_up 0$/m);
    } finally {
      process.kill(r.redis.pid as number, 'SIGCONT');
    }
    await waitFor('served again', async () => (await raw(`${url}/api/schedules`, {})).status === 200);
  });
});
