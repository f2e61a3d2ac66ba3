/**
 * A catalog of many kinds in one process: the queue handles share one connection, each consumed kind
 * adds one blocking connection (BullMQ's, per worker) and nothing else, and the board and /metrics
 * ask Redis who is connected once per request, not once per queue (with a thousand kinds that was a
 * thousand CLIENT LISTs of a thousand clients each: 1.6 s per scrape, and a board answering 503).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { builtinCatalog } from '../src/config/catalog-source.js';
import type { Declarations } from '../src/config/kind-config.js';
import type { Handlers } from '../src/handlers/types.js';
import { kindsOf } from '../src/jobs/registry.js';
import { Consumers } from '../src/workers/consumer.js';
import { type Harness, harness } from './helpers/harness.js';
import { privateRedis, testRedis } from './helpers/redis.js';
import { waitFor } from './helpers/wait-for.js';
import { serveApp } from './helpers/web.js';

const KINDS = 40;
const catalog: Declarations = {
  ...builtinCatalog(),
  ...Object.fromEntries(Array.from({ length: KINDS }, (_, i) => [`k${i}`, { decl: { scope: 'item' as const }, source: 'test' }])),
};

const open: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of open.splice(0).reverse()) await close();
});

describe(`a process with ${KINDS} kinds more`, () => {
  it('shares connections across kinds and lists the clients once per scrape and per board listing', async () => {
    const r = await privateRedis({ appendonly: false });
    open.push(() => r.dispose());
    const x: Harness = await harness({ REDIS_URL: r.redis.url }, { catalog });
    open.push(() => x.dispose());
    const probe = testRedis(r.redis.url);
    open.push(async () => probe.disconnect());
    const clients = async () =>
      String(await probe.client('LIST'))
        .trim()
        .split('\n');
    const before = (await clients()).length;

    await Promise.all(x.queues.all().map((q) => q.waitUntilReady()));
    expect((await clients()).length, 'queue handles open no connection of their own').toBe(before);

    const items = kindsOf(x.config).filter((k) => k.scope === 'item');
    const handlers: Handlers = {
      mode: 'module',
      listUsers: async function* () {},
      run: Object.fromEntries(items.map((k) => [k.name, async () => null])),
    };
    const consumers = new Consumers({ ...x, handlers }, items);
    consumers.start();
    x.lifecycle.add({ name: 'consumers', close: () => consumers.close() });
    const blocking = async () => (await clients()).filter((l) => l.includes(` name=${x.prefix}:`)).length;
    await waitFor('a blocking connection per worker', async () => (await blocking()) === KINDS);
    expect((await clients()).length, 'one blocking connection per consumed kind, nothing more').toBe(before + KINDS);

    const web = await serveApp(x);
    const clientLists = async () => Number(/cmdstat_client\|list:calls=(\d+)/.exec(await probe.info('commandstats'))?.[1] ?? 0);
    await probe.config('RESETSTAT');
    const metrics = await (await fetch(`${web.url}/metrics`)).text();
    expect(await clientLists()).toBe(1);
    expect(metrics).toMatch(/spotter_jobs_queue_workers\{queue="k7"\} 1/);
    expect(metrics).toMatch(/spotter_jobs_queue_workers\{queue="sync"\} 0/);

    await probe.config('RESETSTAT');
    const res = await fetch(`${web.url}/board/api/queues`);
    expect(res.status).toBe(200);
    const board = (await res.json()) as { queues: Array<{ name: string; hasWorkers: boolean | null }> };
    expect(await clientLists()).toBeLessThanOrEqual(1);
    expect(board.queues.find((q) => q.name === 'k7')?.hasWorkers).toBe(true);
    expect(board.queues.find((q) => q.name === 'sync')?.hasWorkers).toBe(false);
  }, 60_000);
});
