/** The web surface under a careless or hostile client: foreign Host names, writes in read-only mode, bad bodies. */
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../src/telemetry/logger.js';
import { harness } from './helpers/harness.js';
import { raw } from './helpers/raw-http.js';
import { serveApp } from './helpers/web.js';

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

describe('DNS rebinding in loopback mode', () => {
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

describe('read-only means read-only everywhere', () => {
  it('refuses the API writes too', async () => {
    const { web } = await setup({ SPOTTER_JOBS_BOARD_READ_ONLY: 'true' });
    const json = { 'content-type': 'application/json' };
    expect((await raw(`${web.url}/api/dead-letter`, { method: 'DELETE' })).status).toBe(403);
    expect((await raw(`${web.url}/api/dead-letter/replay`, { method: 'POST', headers: json, body: '{"all":true}' })).status).toBe(403);
    expect((await raw(`${web.url}/api/schedules/sync/run`, { method: 'POST', headers: json, body: '{}' })).status).toBe(403);
    expect((await raw(`${web.url}/api/schedules`, {})).status).toBe(200);
  });
});

describe('bad bodies', () => {
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
