import { afterEach, describe, expect, it } from 'vitest';
import { PermanentError } from '../src/jobs/errors.js';
import { createLogger } from '../src/telemetry/logger.js';
import { constantTimeEqual } from '../src/web/security.js';
import { isLoopback } from '../src/web/server.js';
import { Consumers } from '../src/workers/consumer.js';
import { kinds, optionsFor, testHandlers } from './helpers/handlers.js';
import { type Harness, harness, reconcileAsProducer } from './helpers/harness.js';
import { testEnv } from './helpers/redis.js';
import { runCli } from './helpers/spawn-cli.js';
import { waitFor } from './helpers/wait-for.js';
import { basic, serveApp } from './helpers/web.js';

const open: Harness[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((h) => h.dispose()));
});

const PASSWORD = 'correct horse battery staple';
const AUTH = basic('admin', PASSWORD);

async function setup(env: Record<string, string> = {}, opts: { log?: ReturnType<typeof createLogger> } = {}) {
  const x = await harness({ SPOTTER_JOBS_BOARD_PASSWORD: PASSWORD, ...env }, opts);
  open.push(x);
  const web = await serveApp(x);
  const req = (path: string, init: RequestInit = {}) => fetch(`${web.url}${path}`, { redirect: 'manual', ...init });
  return { x, web, req };
}

async function deadLetter(x: Harness, queue: 'sync' | 'enrichment', userId: string, reason: string) {
  const consumers = new Consumers(
    {
      ...x,
      handlers: testHandlers([], async () => {
        throw new PermanentError(reason);
      }),
    },
    kinds(x.config, queue),
  );
  consumers.start();
  const before = await x.deadLetters.count();
  await x.queues.get(queue).add('user', { userId, scheduledFor: 1, tick: 't' }, { ...optionsFor(x.config, queue), jobId: `t__${userId}` });
  await waitFor('dead letter', async () => (await x.deadLetters.count()) === before + 1);
  await consumers.close();
}

describe('auth', () => {
  it.each(['/', '/board', '/board/api/queues', '/api/schedules', '/api/dead-letter'])('%s needs basic auth', async (path) => {
    const { req } = await setup();
    const none = await req(path);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toContain('Basic');
    expect((await req(path, { headers: { authorization: basic('admin', 'wrong') } })).status).toBe(401);
    expect((await req(path, { headers: { authorization: basic('root', PASSWORD) } })).status).toBe(401);
    expect((await req(path, { headers: { authorization: AUTH } })).status).toBe(200);
  });

  it.each(['/livez', '/healthz', '/readyz', '/metrics'])('%s is open', async (path) => {
    const { req } = await setup();
    expect((await req(path)).status).toBe(200);
  });

  it('compares in constant time over digests of any length', () => {
    expect(constantTimeEqual('a', 'a')).toBe(true);
    expect(constantTimeEqual('a', 'ab')).toBe(false);
    expect(constantTimeEqual('', '')).toBe(true);
  });

  it('knows loopback addresses', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost']) expect(isLoopback(h)).toBe(true);
    for (const h of ['0.0.0.0', '::', '10.0.0.1', 'spotter.example']) expect(isLoopback(h)).toBe(false);
  });

  it('refuses (exit 78) to listen beyond loopback without a password', async () => {
    const r = await runCli(['producer'], { ...testEnv('unused-web'), SPOTTER_JOBS_HTTP_HOST: '0.0.0.0' });
    expect(r.code).toBe(78);
    expect(r.stderr).toContain('SPOTTER_JOBS_HTTP_HOST="0.0.0.0"');
    expect(r.stderr).toContain('SPOTTER_JOBS_BOARD_PASSWORD');
  });
});

describe('cross-site writes', () => {
  const writes: Array<[string, string]> = [
    ['POST', '/api/schedules/sync/run'],
    ['POST', '/api/dead-letter/replay'],
    ['DELETE', '/api/dead-letter'],
    ['PUT', '/board/api/queues/sync/retry/failed'],
    ['PUT', '/board/api/queues/sync/clean/completed'],
  ];
  it.each(writes)('%s %s with a foreign Origin is refused', async (method, path) => {
    const { req } = await setup();
    const r = await req(path, {
      method,
      headers: { authorization: AUTH, origin: 'https://evil.example', 'content-type': 'application/json' },
      body: '{}',
    });
    expect(r.status).toBe(403);
  });
  it.each(writes)('%s %s with Sec-Fetch-Site: cross-site is refused', async (method, path) => {
    const { req } = await setup();
    const r = await req(path, {
      method,
      headers: { authorization: AUTH, 'sec-fetch-site': 'cross-site', 'content-type': 'application/json' },
      body: '{}',
    });
    expect(r.status).toBe(403);
  });
  it('a same-origin write goes through', async () => {
    const { req, web } = await setup();
    const r = await req('/api/schedules/sync/run', {
      method: 'POST',
      headers: { authorization: AUTH, origin: web.url, 'sec-fetch-site': 'same-origin', 'content-type': 'application/json' },
      body: '{}',
    });
    expect(r.status).toBe(202);
    const board = await req('/board/api/queues/sync/clean/completed', { method: 'PUT', headers: { authorization: AUTH, origin: web.url } });
    expect(board.status).toBeLessThan(300);
  });
  it('read-only mode refuses every write to the board', async () => {
    const { req } = await setup({ SPOTTER_JOBS_BOARD_READ_ONLY: 'true' });
    const r = await req('/board/api/queues/sync/retry/failed', { method: 'PUT', headers: { authorization: AUTH } });
    expect(r.status).toBe(403);
    expect((await req('/board/api/queues', { headers: { authorization: AUTH } })).status).toBe(200);
  });
});

describe('JSON API', () => {
  it('lists schedules, runs one (tick or user), and validates input', async () => {
    const { x, req } = await setup();
    const h = { authorization: AUTH, 'content-type': 'application/json' };
    const list = (await (await req('/api/schedules', { headers: h })).json()) as Array<{ name: string }>;
    expect(list.map((s: { name: string }) => s.name)).toEqual(['sync', 'enrichment', 'write-back']);
    const tick = await req('/api/schedules/enrichment/run', { method: 'POST', headers: h, body: '{}' });
    expect(tick.status).toBe(202);
    expect(await tick.json()).toMatchObject({ kind: 'tick', queue: 'schedules' });
    const user = await req('/api/schedules/write-back/run', { method: 'POST', headers: h, body: JSON.stringify({ userId: '42' }) });
    const u = (await user.json()) as { jobId: string };
    expect(u).toMatchObject({ kind: 'user', queue: 'writeback' });
    expect((await x.queues.get('writeback').getJob(u.jobId))?.data.userId).toBe('42');
    expect((await req('/api/schedules/nope/run', { method: 'POST', headers: h, body: '{}' })).status).toBe(404);
    expect((await req('/api/schedules/sync/run', { method: 'POST', headers: h, body: '{"userId":"<x>"}' })).status).toBe(400);
    // An empty id gets the reason ctx.enqueue and the CLI give, not the schema library's words.
    const empty = await req('/api/schedules/sync/run', { method: 'POST', headers: h, body: '{"userId":""}' });
    expect(empty.status).toBe(400);
    expect(((await empty.json()) as { error: string }).error).toMatch(/cannot add a sync job: "" is not a user id: it is empty$/);
    // Too long is bounded and named (the schema no longer counts characters); item ids and owners: owners.test.ts.
    const long = await req('/api/schedules/sync/run', { method: 'POST', headers: h, body: JSON.stringify({ userId: 'u'.repeat(201) }) });
    expect(long.status).toBe(400);
    expect(((await long.json()) as { error: string }).error).toMatch(
      /\(201 characters\) is not a user id: it is longer than 200 characters$/,
    );
    expect((await req('/api/schedules/sync/run', { method: 'POST', headers: h, body: '{"surprise":1}' })).status).toBe(400);
    expect((await req('/api/schedules/sync/run', { method: 'POST', headers: h, body: '{"at":"tomorrow"}' })).status).toBe(400);
  });

  it('lists, replays and purges dead letters with the same semantics as the CLI', async () => {
    const { x, req } = await setup();
    const h = { authorization: AUTH, 'content-type': 'application/json' };
    await deadLetter(x, 'sync', 'a', 'gone a');
    await deadLetter(x, 'sync', 'b', 'gone b');
    await deadLetter(x, 'enrichment', 'c', 'gone c');
    const sync = (await (await req('/api/dead-letter?queue=sync&limit=10', { headers: h })).json()) as Array<{ id: string }>;
    expect(sync.map((d: { id: string }) => d.id).sort()).toEqual(['sync__t__a', 'sync__t__b']);
    expect(sync[0]).toMatchObject({ sourceQueue: 'sync', attemptsMade: 1 });
    expect((await req('/api/dead-letter?queue=mail', { headers: h })).status).toBe(400);
    const replay = await req('/api/dead-letter/replay', { method: 'POST', headers: h, body: JSON.stringify({ ids: ['sync__t__a'] }) });
    expect(await replay.json()).toEqual({ replayed: ['t__a__replay'], missing: [], settled: [], orphaned: [] });
    expect((await req('/api/dead-letter/replay', { method: 'POST', headers: h, body: '{}' })).status).toBe(400);
    const purge = await req('/api/dead-letter?queue=enrichment', { method: 'DELETE', headers: h });
    expect(await purge.json()).toEqual({ purged: 1 });
    expect((await req('/api/dead-letter?olderThan=7d', { method: 'DELETE', headers: h })).status).toBe(400);
    expect(await x.deadLetters.count()).toBe(1);
  });
});

describe('probes and metrics', () => {
  it('/readyz turns 503 while draining', async () => {
    const { x, req } = await setup();
    expect((await req('/readyz')).status).toBe(200);
    x.lifecycle.draining = true;
    const r = await req('/readyz');
    expect(r.status).toBe(503);
  });

  it('/metrics reads cluster-wide values from Redis at scrape time and counts job outcomes', async () => {
    const { x, req, web } = await setup();
    await deadLetter(x, 'sync', 'm1', 'nope');
    await x.queues.get('enrichment').add('user', { userId: 'w', scheduledFor: 1, tick: 't' }, { jobId: 't__w' });
    web.metrics.observe('sync', 'completed', 0.2);
    const text = await (await req('/metrics')).text();
    expect(text).toContain('spotter_jobs_queue_jobs{queue="enrichment",state="waiting"} 1');
    expect(text).toContain('spotter_jobs_queue_jobs{queue="sync",state="failed"} 1');
    expect(text).toContain('spotter_jobs_dead_letters{source_queue="sync"} 1');
    expect(text).toContain('spotter_jobs_dead_letters{source_queue="enrichment"} 0');
    expect(text).toContain('spotter_jobs_job_attempts_total{queue="sync",outcome="completed"} 1');
    expect(text).toMatch(/spotter_jobs_job_duration_seconds_bucket\{le="0.25",queue="sync",outcome="completed"\} 1/);
    expect(text).toContain('# TYPE spotter_jobs_schedule_next_run_timestamp_seconds gauge');
    expect(text).toContain('spotter_jobs_process_cpu_user_seconds_total');
  });
});

describe('request logs', () => {
  it('carry X-Request-Id, keep probes below info and never show credentials', async () => {
    const lines: string[] = [];
    const sink = new (await import('node:stream')).Writable({
      write(chunk, _enc, cb) {
        lines.push(chunk.toString());
        cb();
      },
    });
    const log = createLogger({ level: 'info', destination: sink, secrets: [PASSWORD] });
    const { req } = await setup({}, { log });
    const r = await req('/api/schedules', { headers: { authorization: AUTH, 'x-request-id': 'req-123', cookie: `session=${PASSWORD}` } });
    expect(r.headers.get('x-request-id')).toBe('req-123');
    await req('/readyz');
    await req('/metrics');
    await req(`/api/dead-letter?limit=${encodeURIComponent(PASSWORD)}`, { headers: { authorization: AUTH } });
    const all = lines.join('');
    const reqLines = lines.filter((l) => l.includes('"req"'));
    expect(reqLines.some((l) => l.includes('"id":"req-123"') && l.includes('/api/schedules'))).toBe(true);
    expect(reqLines.some((l) => l.includes('/readyz') || l.includes('/metrics'))).toBe(false);
    expect(all).not.toContain(PASSWORD);
    expect(all).not.toContain(Buffer.from(`admin:${PASSWORD}`).toString('base64'));
  });
});

describe('the status page', () => {
  it('shows schedules, counts and dead letters, every value escaped', async () => {
    const { x, req } = await setup();
    await reconcileAsProducer(x);
    await deadLetter(x, 'sync', 'x1', '<img src=x onerror="alert(1)"> token revoked');
    await deadLetter(x, 'sync', 'x2', '<img src=x onerror="alert(1)"> token revoked');
    const page = await (await req('/', { headers: { authorization: AUTH } })).text();
    expect(page).toContain('<h2>Kinds and schedules</h2>');
    expect(page).toMatch(/write-back<\/b><\/td><td>user<\/td><td>writeback<\/td><td>yes<\/td><td><code>1h<\/code>/);
    expect(page).toContain('2× <code>permanent: &lt;img src=x onerror=&quot;alert(1)&quot;&gt; token revoked</code>');
    expect(page).not.toContain('<img');
    expect(page).toContain('href="/board/queue/dead-letter"');
  });
});
