/**
 * A user listing that never ends fails its tick with the reason (a cursor seen before in the tick, a
 * run of empty pages, the tick's deadline), and a stuck listing never holds the tick slots that other
 * schedules need.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { builtinCatalog } from '../src/config/catalog-source.js';
import type { Declarations } from '../src/config/kind-config.js';
import { httpHandlers } from '../src/handlers/http.js';
import type { Handlers } from '../src/handlers/types.js';
import { kindsOf } from '../src/jobs/registry.js';
import { fanOut } from '../src/producers/fan-out.js';
import { ListingLimitError } from '../src/producers/listing-limits.js';
import { TickConsumer } from '../src/producers/tick-consumer.js';
import { lastTick } from '../src/schedules/tick-record.js';
import { testHandlers } from './helpers/handlers.js';
import { type Harness, harness } from './helpers/harness.js';
import { syncTick } from './helpers/listings.js';
import { waitFor } from './helpers/wait-for.js';

const open: Harness[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((h) => h.dispose()));
});
async function h(env: Record<string, string> = {}, catalog?: Declarations): Promise<Harness> {
  const x = await harness(env, catalog ? { catalog } : {});
  open.push(x);
  return x;
}
const tick = (x: Harness, at: number) => syncTick(x, at, 10);

let server: Server;
let base: string;
let requests = 0;
let answer: (cursor: string | null) => unknown = () => ({ users: [] });
beforeAll(async () => {
  server = createServer((req, res) => {
    requests++;
    const cursor = new URL(req.url ?? '/', 'http://x').searchParams.get('cursor');
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer(cursor)));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const spotter = (x: Harness): Handlers => httpHandlers({ url: base, secrets: [], kinds: kindsOf(x.config) });

/** A listing whose second page never comes, and which takes no signal. */
const stuck = (): Handlers => ({
  ...testHandlers([]),
  listUsers: async function* () {
    yield ['u1', 'u2'];
    await new Promise(() => {});
  },
});

describe('a listing that never ends', () => {
  it('fails the tick after a run of empty pages that each name a new cursor', async () => {
    const x = await h({ SPOTTER_JOBS_FANOUT_EMPTY_PAGES: '20' });
    let n = 0;
    answer = () => ({ users: [], nextCursor: `c${++n}` });
    requests = 0;
    const err = await fanOut({ ...x, handlers: spotter(x) }, tick(x, 1000)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ListingLimitError);
    expect((err as Error).message).toMatch(/20 empty pages in a row .*SPOTTER_JOBS_FANOUT_EMPTY_PAGES=20/);
    expect(requests).toBe(20);
  });

  it('fails the tick when a cursor comes back, also one from pages before the last (a → b → a)', async () => {
    const x = await h();
    answer = (cursor) =>
      cursor === null
        ? { users: [{ id: 'u1' }], nextCursor: 'a' }
        : { users: [{ id: cursor === 'a' ? 'u2' : 'u3' }], nextCursor: cursor === 'a' ? 'b' : 'a' };
    const err = await fanOut({ ...x, handlers: spotter(x) }, tick(x, 1000)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ListingLimitError);
    expect((err as Error).message).toMatch(/cursor "a" a second time \(page 3\)/);
    // The pages before it were added; the page that named the cursor again was not.
    expect(await x.queues.get('sync').getWaitingCount()).toBe(2);
  });

  it('fails the tick at its deadline, even while a page that never comes is awaited', async () => {
    const x = await h({ SPOTTER_JOBS_FANOUT_DEADLINE: '1s' });
    const err = await fanOut({ ...x, handlers: stuck() }, tick(x, 1000)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ListingLimitError);
    expect((err as Error).message).toMatch(/more than 1s listing users .*SPOTTER_JOBS_FANOUT_DEADLINE/);
  });

  it('lets go when a newer tick starts, though its page never comes', async () => {
    const x = await h();
    const older = fanOut({ ...x, handlers: stuck() }, tick(x, 1000));
    await waitFor('the older tick listed its first page', async () => (await x.queues.get('sync').getWaitingCount()) === 2);
    // The newer one lists fine, and goes on after the two users the older one added.
    const newer = fanOut({ ...x, handlers: testHandlers(['u1', 'u2', 'u3']) }, tick(x, 2000));
    expect(await older).toMatchObject({ superseded: true, supersededBy: 'repeat:sync:2000', listing: { reached: 2 } });
    expect(await newer).toMatchObject({ users: 3, added: 1, coalesced: 2, listing: { from: 2, reached: 2, wrapped: true } });
  });
});

describe('tick slots', () => {
  it('a schedule whose listing hangs does not hold the slots of the others: a global kind still runs', async () => {
    const catalog: Declarations = { ...builtinCatalog(), cleanup: { decl: { scope: 'global', schedule: '1h' }, source: 'test' } };
    const x = await h({}, catalog);
    const ticks = new TickConsumer({ ...x, handlers: stuck() });
    ticks.start();
    x.lifecycle.add({ name: 'ticks', close: () => ticks.close() });
    // More sync ticks than the consumer has slots (2 × 4 scheduled kinds + 1), each listing for ever.
    for (let i = 1; i <= 12; i++) {
      await x.queues.schedules().add('tick', { schedule: 'sync', manual: true }, { jobId: `manual_sync_${i}`, delay: i });
    }
    await waitFor('a sync tick paging', () => x.conn.hget(`${x.prefix}:spotter-jobs:fanout-schedule:sync`, 'tick'));
    await x.queues.schedules().add('tick', { schedule: 'cleanup', manual: true }, { jobId: 'manual_cleanup_1' });
    await waitFor('the cleanup tick ran', () => lastTick(x.conn, x.prefix, 'cleanup'), { timeoutMs: 15_000 });
    expect(await lastTick(x.conn, x.prefix, 'cleanup')).toMatchObject({ result: 'ok', added: 1 });
    expect(await x.queues.get('cleanup').getWaitingCount()).toBe(1);
    expect(kindsOf(x.config).map((k) => k.name)).toContain('cleanup');
  }, 30_000);
});
