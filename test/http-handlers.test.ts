import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCatalog } from '../src/config/catalog-source.js';
import type { KindConfig } from '../src/config/kind-config.js';
import { loadConfig } from '../src/config/load.js';
import { httpHandlers, parseRetryAfter } from '../src/handlers/http.js';
import { loadHandlers } from '../src/handlers/select.js';
import type { HandlerContext, Handlers, UserHandler } from '../src/handlers/types.js';
import { PermanentError, RetryAfterError } from '../src/jobs/errors.js';
import { kindsOf } from '../src/jobs/registry.js';
import { trigger } from '../src/ops/trigger.js';
import { createLogger } from '../src/telemetry/logger.js';
import { Consumers } from '../src/workers/consumer.js';
import { harness } from './helpers/harness.js';
import { newPrefix } from './helpers/redis.js';
import { waitFor } from './helpers/wait-for.js';

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

let server: Server;
let base: string;
const seen: Seen[] = [];
let respond: (req: Seen, res: ServerResponse) => void = (_req, res) => res.end();

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => {
      body += d;
    });
    req.on('end', () => {
      const s = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body };
      seen.push(s);
      respond(s, res);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

function ctx(over: Partial<HandlerContext> = {}): HandlerContext {
  return {
    jobId: 'repeat_sync_1__42',
    attempt: 2,
    kind: 'sync',
    queue: 'sync',
    parent: undefined,
    depth: 0,
    enqueue: async () => 'child',
    schedules: { add: () => Promise.reject(new Error('no schedules in this test')), remove: async () => false, list: async () => [] },
    scheduledFor: Date.UTC(2026, 0, 1),
    signal: new AbortController().signal,
    log: createLogger({ level: 'silent' }),
    progress: async () => {},
    ...over,
  };
}

function byQueue(h: Handlers) {
  const u = (k: string) => h.run[k] as UserHandler;
  return { listUsers: h.listUsers, run: { sync: u('sync'), enrichment: u('enrichment'), writeback: u('write-back') } };
}

const httpMode = (url: string, secrets: string[], timeoutMs: number) => {
  const t = `${timeoutMs}ms`;
  const c = loadConfig({ SPOTTER_JOBS_SYNC_TIMEOUT: t, SPOTTER_JOBS_ENRICHMENT_TIMEOUT: t, SPOTTER_JOBS_WRITEBACK_TIMEOUT: t });
  return byQueue(httpHandlers({ url, secrets, kinds: kindsOf(c) }));
};

const handlers = (secrets: string[] = ['current', 'previous'], timeoutMs = 2000) => httpMode(base, secrets, timeoutMs);

describe('HTTP mode: the Spotter contract', () => {
  it('POSTs the job with Idempotency-Key and a verifiable signature per secret', async () => {
    seen.length = 0;
    respond = (_r, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"synced":3}');
    const result = await handlers().run.sync('42', ctx());
    expect(result).toEqual({ synced: 3 });
    const req = seen[0] as Seen;
    expect(req.method).toBe('POST');
    expect(req.url).toBe('/internal/jobs/sync');
    expect(JSON.parse(req.body)).toEqual({
      jobId: 'repeat_sync_1__42',
      kind: 'sync',
      userId: '42',
      attempt: 2,
      scheduledFor: '2026-01-01T00:00:00.000Z',
    });
    expect(req.headers['idempotency-key']).toBe('repeat_sync_1__42');
    const sig = String(req.headers['x-spotter-signature']);
    const t = /t=(\d+)/.exec(sig)?.[1] as string;
    expect(Math.abs(Number(t) - Date.now() / 1000)).toBeLessThan(5);
    const v1 = [...sig.matchAll(/v1=([0-9a-f]{64})/g)].map((m) => m[1]);
    const expected = (secret: string) => createHmac('sha256', secret).update(`${t}.${req.body}`).digest('hex');
    expect(v1).toEqual([expected('current'), expected('previous')]);
  });

  it('sends no signature header when no secret is set', async () => {
    seen.length = 0;
    respond = (_r, res) => res.writeHead(204).end();
    expect(await handlers([]).run.writeback('7', ctx({ queue: 'writeback' }))).toBeNull();
    expect(seen[0]?.headers['x-spotter-signature']).toBeUndefined();
    expect(seen[0]?.url).toBe('/internal/jobs/writeback');
  });

  it('fails a 2xx body over 16 KB for good instead of completing with null', async () => {
    respond = (_r, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ big: 'x'.repeat(20_000) }));
    const err = await handlers()
      .run.sync('42', ctx())
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PermanentError);
    expect((err as Error).message).toMatch(/answered 200 with a body over 16384 bytes/);
  });

  it.each([429, 503])('turns %i with Retry-After into a delayed retry', async (status) => {
    respond = (_r, res) => res.writeHead(status, { 'retry-after': '12' }).end('slow down');
    const err = await handlers()
      .run.sync('42', ctx())
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RetryAfterError);
    expect((err as RetryAfterError).retryAfterMs).toBe(12_000);
  });

  it.each([400, 401, 404, 410, 422])('makes %i permanent', async (status) => {
    respond = (_r, res) => res.writeHead(status).end('nope');
    const err = await handlers()
      .run.enrichment('42', ctx({ queue: 'enrichment' }))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PermanentError);
    expect((err as Error).message).toContain(String(status));
  });

  it.each([500, 502, 503])('retries %i (503 without Retry-After too)', async (status) => {
    respond = (_r, res) => res.writeHead(status).end('down');
    const err = await handlers()
      .run.sync('42', ctx())
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect(err).not.toBeInstanceOf(PermanentError);
    expect(err).not.toBeInstanceOf(RetryAfterError);
  });

  it('times out a slow Spotter as a retryable error', async () => {
    respond = (_r, res) => setTimeout(() => res.end(), 1500);
    const err = await handlers(['s'], 200)
      .run.sync('42', ctx())
      .catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/timed out after 200 ms/);
    expect(err).not.toBeInstanceOf(PermanentError);
  });

  it('treats a refused connection as retryable', async () => {
    const h = httpMode('http://127.0.0.1:1', [], 1000);
    const err = await h.run.sync('42', ctx()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect(err).not.toBeInstanceOf(PermanentError);
  });

  it('pages through users with cursor and limit', async () => {
    seen.length = 0;
    respond = (req, res) => {
      const u = new URL(req.url, base);
      const cursor = u.searchParams.get('cursor');
      const page =
        cursor === null
          ? { users: [{ id: '1' }, { id: 2 }], nextCursor: 'c2' }
          : cursor === 'c2'
            ? { users: [{ id: '3' }], nextCursor: null }
            : { users: [] };
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(page));
    };
    const pages: string[][] = [];
    for await (const p of handlers().listUsers(2)) pages.push(p);
    expect(pages).toEqual([['1', '2'], ['3']]);
    expect(seen.map((s) => s.url)).toEqual(['/internal/jobs/users?limit=2', '/internal/jobs/users?cursor=c2&limit=2']);
  });

  it('refuses a redirect of the user listing: nothing is sent to the other origin, its list is not used', async () => {
    let elsewhere = 0;
    const other = createServer((_req, res) => {
      elsewhere++;
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"users":[{"id":"stranger"}],"nextCursor":null}');
    });
    await new Promise<void>((r) => other.listen(0, '127.0.0.1', r));
    try {
      const to = `http://127.0.0.1:${(other.address() as AddressInfo).port}/list`;
      respond = (_r, res) => res.writeHead(302, { location: to }).end();
      const it = handlers().listUsers(10)[Symbol.asyncIterator]();
      await expect(it.next()).rejects.toThrow(/GET \/internal\/jobs\/users: answered a redirect, which is refused/);
      expect(elsewhere).toBe(0);
    } finally {
      await new Promise<void>((r) => other.close(() => r()));
    }
  });

  it('fails a user listing with an unexpected body', async () => {
    respond = (_r, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"people":[]}');
    const it = handlers().listUsers(10)[Symbol.asyncIterator]();
    await expect(it.next()).rejects.toThrow(/unexpected body/);
  });
});

describe('parseRetryAfter', () => {
  it('reads seconds and HTTP dates', () => {
    expect(parseRetryAfter('30')).toBe(30_000);
    const now = Date.UTC(2026, 0, 1, 0, 0, 0);
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:01:00 GMT', now)).toBe(60_000);
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter(null)).toBeUndefined();
  });
});

describe('HTTP mode: kinds from a catalog file, chained by the answer', () => {
  it('POSTs a global and an item kind to /internal/jobs/{kind}, and adds what a 2xx answer enqueues', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'spotter-jobs-http-catalog-'));
    const file = join(dir, 'catalog.yaml');
    writeFileSync(file, 'jobs:\n  cleanup:\n    scope: global\n    schedule: "0 0 * * *"\n    followUps: [tag]\n  tag:\n    scope: item\n');
    const env = { SPOTTER_URL: base, SPOTTER_JOBS_CATALOG: file };
    const prefix = newPrefix();
    const x = await harness(env, { prefix, catalog: await loadCatalog(env) });
    try {
      seen.length = 0;
      respond = (r, res) => {
        const body = r.url.endsWith('/cleanup') ? { enqueue: [{ kind: 'tag', id: 'track-1', data: { path: '/m/1.flac' } }] } : { ok: true };
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      };
      const kinds = kindsOf(x.config).filter((k) => k.name === 'cleanup' || k.name === 'tag');
      const handlers = await loadHandlers(x.config, { needsUsers: false, kinds });
      const consumers = new Consumers({ ...x, handlers }, kinds);
      consumers.start();
      x.lifecycle.add({ name: 'consumers', close: () => consumers.close() });
      const t = await trigger(x.queues, x.config, x.config.kinds.cleanup as KindConfig);
      await waitFor('the chained item was posted', () => seen.find((s) => s.url === '/internal/jobs/tag'));
      const cleanup = JSON.parse((seen.find((s) => s.url === '/internal/jobs/cleanup') as Seen).body);
      expect(cleanup).toMatchObject({ jobId: t.jobId, kind: 'cleanup', attempt: 1 });
      expect(cleanup.userId).toBeUndefined();
      const tag = JSON.parse((seen.find((s) => s.url === '/internal/jobs/tag') as Seen).body);
      expect(tag).toMatchObject({
        kind: 'tag',
        item: { id: 'track-1', data: { path: '/m/1.flac' } },
        parent: { kind: 'cleanup', jobId: t.jobId },
      });
      await waitFor('both completed', async () => (await x.queues.get('tag').getCompletedCount()) === 1);
    } finally {
      await x.dispose();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('HTTP mode: credentials in SPOTTER_URL', () => {
  it('sends them as a Basic Authorization header, never in the URL, a log or a failure reason', async () => {
    const u = new URL(base);
    u.username = 'jobs';
    u.password = 'pa55word-xyz';
    const c = loadConfig({ SPOTTER_URL: u.toString() });
    expect(c.handlers).toMatchObject({ kind: 'http', url: base });
    expect(JSON.stringify(c.handlers)).not.toContain('pa55word-xyz');
    const h = c.handlers as { url: string; authorization?: string };
    const run = byQueue(httpHandlers({ url: h.url, authorization: h.authorization, secrets: [], kinds: kindsOf(c) })).run;
    seen.length = 0;
    respond = (_r, res) => res.writeHead(500).end('boom');
    const err = (await run.sync('42', ctx()).catch((e: unknown) => e)) as Error;
    expect(seen[0]?.headers.authorization).toBe(`Basic ${Buffer.from('jobs:pa55word-xyz').toString('base64')}`);
    expect(err.message).toContain(`POST ${base}/internal/jobs/sync answered 500`);
    expect(err.message).not.toContain('pa55word-xyz');
  });
});
