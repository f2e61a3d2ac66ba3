/**
 * HTTP mode past a timeout: the request stays open for SPOTTER_JOBS_TIMEOUT_GRACE waiting for
 * Spotter's answer (the handler has not returned, so its user stays held), and no longer; any other
 * abort (the shutdown deadline, a lost lease) closes it at once.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load.js';
import { httpHandlers } from '../src/handlers/http.js';
import type { HandlerContext, UserHandler } from '../src/handlers/types.js';
import { kindsOf } from '../src/jobs/registry.js';
import { createLogger } from '../src/telemetry/logger.js';
import { JobTimeoutError } from '../src/workers/job-context.js';
import { waitFor } from './helpers/wait-for.js';

let server: Server;
let base: string;
/** Requests Spotter got, and whether it answered or saw the connection close first. */
const requests: Array<{ answered: boolean; closed: boolean }> = [];
let answerAfterMs = 0;

beforeAll(async () => {
  server = createServer((req, res) => {
    const r = { answered: false, closed: false };
    requests.push(r);
    req.resume();
    res.on('close', () => {
      r.closed = !r.answered;
    });
    const t = setTimeout(() => {
      r.answered = true;
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    }, answerAfterMs);
    res.on('close', () => clearTimeout(t));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

function sync(graceMs: number): UserHandler {
  const kinds = kindsOf(loadConfig({ SPOTTER_JOBS_SYNC_TIMEOUT: '200ms' }));
  return httpHandlers({ url: base, secrets: [], kinds, graceMs }).run.sync as UserHandler;
}

function ctx(signal: AbortSignal): HandlerContext {
  return {
    jobId: 'j1',
    attempt: 1,
    depth: 0,
    kind: 'sync',
    queue: 'sync',
    parent: undefined,
    enqueue: async () => 'child',
    schedules: { add: () => Promise.reject(new Error('no schedules in this test')), remove: async () => false, list: async () => [] },
    scheduledFor: Date.now(),
    signal,
    log: createLogger({ level: 'silent' }),
    progress: async () => {},
  };
}

describe('HTTP mode: a request past its timeout', () => {
  it("stays open after the attempt's timeout and returns Spotter's answer within the grace", async () => {
    requests.length = 0;
    answerAfterMs = 600;
    const c = new AbortController();
    const run = sync(5000)('42', ctx(c.signal));
    await waitFor('the request at Spotter', () => requests.length === 1);
    // What the worker does at the kind's timeout.
    c.abort(new JobTimeoutError('timed out after 200ms'));
    await expect(run).resolves.toEqual({ ok: true });
    expect(requests[0]).toEqual({ answered: true, closed: false });
  });

  it('is closed once the grace is over, with a reason naming both', async () => {
    requests.length = 0;
    answerAfterMs = 10_000;
    const c = new AbortController();
    const run = sync(300)('42', ctx(c.signal));
    await waitFor('the request at Spotter', () => requests.length === 1);
    c.abort(new JobTimeoutError('timed out after 200ms'));
    await expect(run).rejects.toThrow(/timed out after 200 ms and a grace of 300 ms/);
    await waitFor('Spotter sees the connection closed', () => requests[0]?.closed);
  });

  it('is closed at once for any other abort (the shutdown deadline)', async () => {
    requests.length = 0;
    answerAfterMs = 10_000;
    const c = new AbortController();
    const run = sync(60_000)('42', ctx(c.signal));
    await waitFor('the request at Spotter', () => requests.length === 1);
    c.abort(new Error('shutdown deadline reached'));
    await expect(run).rejects.toThrow(/shutdown deadline reached/);
    await waitFor('Spotter sees the connection closed', () => requests[0]?.closed);
  });
});
