/** What a 2xx answer may chain: its `enqueue` list is added whole or refused naming the entry, never dropped. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCatalog } from '../src/config/catalog-source.js';
import type { KindConfig } from '../src/config/kind-config.js';
import { loadConfig } from '../src/config/load.js';
import { httpHandlers } from '../src/handlers/http.js';
import { chainedWork, MAX_CHAINED } from '../src/handlers/http-chain.js';
import { loadHandlers } from '../src/handlers/select.js';
import type { HandlerContext, UserHandler } from '../src/handlers/types.js';
import { PermanentError } from '../src/jobs/errors.js';
import { kindsOf } from '../src/jobs/registry.js';
import { trigger } from '../src/ops/trigger.js';
import { createLogger } from '../src/telemetry/logger.js';
import { Consumers } from '../src/workers/consumer.js';
import { harness } from './helpers/harness.js';
import { waitFor } from './helpers/wait-for.js';

let server: Server;
let base: string;
let respond: (res: ServerResponse) => void = (res) => res.end();

beforeAll(async () => {
  server = createServer((req, res) => {
    req.resume();
    req.on('end', () => respond(res));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const answer = (body: unknown) => {
  respond = (res) => res.writeHead(200, { 'content-type': 'application/json' }).end(typeof body === 'string' ? body : JSON.stringify(body));
};

function ctx(over: Partial<HandlerContext> = {}): HandlerContext {
  return {
    jobId: 'j1',
    attempt: 1,
    kind: 'sync',
    queue: 'sync',
    parent: undefined,
    depth: 0,
    enqueue: async () => 'child',
    schedules: { add: () => Promise.reject(new Error('no schedules in this test')), remove: async () => false, list: async () => [] },
    scheduledFor: 0,
    signal: new AbortController().signal,
    log: createLogger({ level: 'silent' }),
    progress: async () => {},
    ...over,
  };
}

/** The sync handler of module-mode settings (every kind may chain any kind). */
const handlers = () => ({
  run: { sync: httpHandlers({ url: base, secrets: [], kinds: kindsOf(loadConfig({})) }).run.sync as UserHandler },
});

describe('chainedWork', () => {
  const list = (n: number) => Array.from({ length: n }, (_, i) => ({ kind: 'tag', id: `t${i}` }));

  it('takes up to 10,000 entries and refuses one more', () => {
    expect(MAX_CHAINED).toBe(10_000);
    expect(chainedWork({ enqueue: list(10_000) })).toHaveLength(10_000);
    expect(() => chainedWork({ enqueue: list(10_001) })).toThrow(PermanentError);
    expect(() => chainedWork({ enqueue: list(10_001) })).toThrow('its enqueue has 10001 entries; at most 10000');
  });

  it('names the entry and the field that is wrong', () => {
    expect(() => chainedWork({ enqueue: [...list(3), { kind: 'tag', id: 't', delay: -1 }] })).toThrow(/^enqueue\[3\]\.delay: /);
    expect(() => chainedWork({ enqueue: [{ kind: 'tag', id: 7 }] })).toThrow(/^enqueue\[0\]\.id: .*string/);
    expect(() => chainedWork({ enqueue: [null] })).toThrow(/^enqueue\[0\]: .* in null$/);
  });

  it('reads an answer without enqueue as no work, and splits each entry into kind, subject and delay', () => {
    expect(chainedWork({ synced: 3 })).toEqual([]);
    expect(chainedWork([1, 2])).toEqual([]);
    expect(chainedWork({ enqueue: [{ kind: 'enrichment', userId: '42', delay: 10 }] })).toEqual([
      { kind: 'enrichment', subject: { userId: '42' }, delay: 10 },
    ]);
  });
});

describe('HTTP mode: a 2xx answer that chains work it cannot add whole fails the job for good', () => {
  const entries = (n: number) => Array.from({ length: n }, (_, i) => ({ kind: 'enrichment', userId: `u${i}` }));
  it.each([
    [
      'an entry with an unknown field',
      [
        { kind: 'enrichment', userId: '1' },
        { kind: 'enrichment', itemId: 't2' },
      ],
      /enqueue\[1\]: Unrecognized key: "itemId"/,
    ],
    ['a delay that is not a whole number', [{ kind: 'enrichment', userId: '1', delay: 1.5 }], /enqueue\[0\]\.delay: .*int/],
    ['an entry of an unknown kind', [...entries(2), { kind: 'nope', userId: '1' }], /enqueue\[2\]: no kind "nope" in the catalog/],
    [
      'an entry its kind cannot take',
      [...entries(1), { kind: 'enrichment', id: 'x' }],
      /enqueue\[1\]: cannot add a enrichment job: .*not "id"/,
    ],
    ['a list that is not a list', { first: { kind: 'enrichment', userId: '1' } }, /enqueue is object, not a list/],
    ['10,001 entries (a body over 16 KB)', entries(10_001), /with a body over 16384 bytes/],
  ])('%s: no entry added, a permanent failure naming it', async (_what, list, reason) => {
    answer({ enqueue: list });
    const added: unknown[] = [];
    const err = await handlers()
      .run.sync('42', ctx({ enqueue: async (...a) => String(added.push(a)) }))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PermanentError);
    expect((err as Error).message).toMatch(reason);
    expect(added).toEqual([]);
  });

  it('fails a body that claims to be JSON and is not', async () => {
    answer('{"enqueue":[{"kind":');
    const err = await handlers()
      .run.sync('42', ctx())
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PermanentError);
    expect((err as Error).message).toMatch(/not JSON/);
  });

  it('adds every entry of a good list, with its delay', async () => {
    answer({ enqueue: [...entries(2), { kind: 'enrichment', userId: 'd', delay: 5 }] });
    const added: unknown[] = [];
    await handlers().run.sync('42', ctx({ enqueue: async (...a) => String(added.push(a)) }));
    expect(added).toEqual([
      ['enrichment', { userId: 'u0' }, undefined],
      ['enrichment', { userId: 'u1' }, undefined],
      ['enrichment', { userId: 'd' }, { delay: 5 }],
    ]);
  });
});

describe('HTTP mode: what an answer may chain', () => {
  const withCatalog = async (yaml: string, fn: (env: Record<string, string>) => Promise<void>) => {
    const dir = mkdtempSync(join(tmpdir(), 'spotter-jobs-http-chain-'));
    try {
      writeFileSync(join(dir, 'catalog.yaml'), yaml);
      await fn({ SPOTTER_URL: base, SPOTTER_JOBS_CATALOG: join(dir, 'catalog.yaml') });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };

  it("dead-letters the parent naming the bad entry, and adds none of the list's jobs", () =>
    withCatalog('jobs:\n  cleanup: { scope: global, followUps: [tag] }\n  tag: { scope: item }\n', async (env) => {
      const x = await harness(env, { catalog: await loadCatalog(env) });
      try {
        answer({
          enqueue: [
            { kind: 'tag', id: 't1' },
            { kind: 'tag', itemId: 't2' },
          ],
        });
        const kinds = kindsOf(x.config).filter((k) => k.name === 'cleanup');
        const consumers = new Consumers({ ...x, handlers: await loadHandlers(x.config, { needsUsers: false, kinds }) }, kinds);
        consumers.start();
        x.lifecycle.add({ name: 'consumers', close: () => consumers.close() });
        await trigger(x.queues, x.config, x.config.kinds.cleanup as KindConfig);
        const [d] = await waitFor('a dead letter', async () => {
          const l = await x.deadLetters.list();
          return l.length > 0 ? l : undefined;
        });
        expect(d?.failedReason).toMatch(/answered 200, but enqueue\[1\]: Unrecognized key: "itemId"/);
        expect(await x.queues.get('cleanup').getCompletedCount()).toBe(0);
        expect(await x.queues.get('tag').count()).toBe(0);
      } finally {
        await x.dispose();
      }
    }));

  it("lets a kind without followUps chain the catalog file's kinds, not Spotter's three", () =>
    withCatalog('jobs:\n  scan: { scope: global }\n  tag: { scope: item }\n', async (env) => {
      const c = loadConfig(env, await loadCatalog(env));
      expect(c.kinds.scan?.followUps).toEqual(['scan', 'tag']);
      expect(c.kinds.sync?.followUps).toEqual(['scan', 'tag']);
      const run = httpHandlers({ url: base, secrets: [], kinds: kindsOf(c) }).run;
      answer({ enqueue: [{ kind: 'sync', userId: '1' }] });
      const err = await (run.scan as (ctx: HandlerContext) => Promise<unknown>)(ctx({ kind: 'scan', queue: 'scan' })).catch(
        (e: unknown) => e,
      );
      expect((err as Error).message).toMatch(
        /enqueue\[0\]: scan may not add sync: its followUps are scan, tag \(SPOTTER_JOBS_SCAN_FOLLOW_UPS\)/,
      );
      // A kind's variable opens or closes it: here scan may add sync, and sync nothing.
      const open = loadConfig(
        { ...env, SPOTTER_JOBS_SCAN_FOLLOW_UPS: 'sync,tag', SPOTTER_JOBS_SYNC_FOLLOW_UPS: 'none' },
        await loadCatalog(env),
      );
      expect(open.kinds.scan?.followUps).toEqual(['sync', 'tag']);
      expect(open.kinds.sync?.followUps).toEqual([]);
      // In module mode a kind that names none may add any kind, as before.
      expect(loadConfig({}).kinds.sync?.followUps).toBeUndefined();
    }));
});
