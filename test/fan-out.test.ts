import { afterEach, describe, expect, it } from 'vitest';
import type { KindConfig } from '../src/config/kind-config.js';
import type { HandlerContext } from '../src/handlers/types.js';
import { globalJobId, manualTickId, tickOf, userJobId } from '../src/jobs/registry.js';
import { fanOut, spreadDelay } from '../src/producers/fan-out.js';
import { Consumers } from '../src/workers/consumer.js';
import { deferred, kinds, testHandlers } from './helpers/handlers.js';
import { type Harness, harness } from './helpers/harness.js';
import { privateRedis } from './helpers/redis.js';
import { waitFor } from './helpers/wait-for.js';

const open: Harness[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((h) => h.dispose()));
});
async function h(env: Record<string, string> = {}): Promise<Harness> {
  const x = await harness(env);
  open.push(x);
  return x;
}
const users = (n: number, p = 'u') => Array.from({ length: n }, (_, i) => `${p}${i + 1}`);

describe('job ids', () => {
  it('name the tick in a few characters, and give the tick back', () => {
    const due = 1_796_416_412_392;
    expect(userJobId(`repeat:sync:${due}`, 'u1')).toBe(`${due.toString(36)}__u1`);
    expect(userJobId(`repeat:sync:${due}`, 'u1').length).toBeLessThan(`repeat_sync_${due}__u1`.length - 10);
    for (const [kind, tick] of [
      ['sync', `repeat:sync:${due}`],
      ['sync', manualTickId('sync', due)],
      ['top-up-2', manualTickId('top-up-2', 7)],
      ['cleanup', 'repeat:cleanup:0'],
    ] as const) {
      expect(tickOf(kind, userJobId(tick, 'user.7@x'), {})).toBe(tick);
      expect(tickOf(kind, globalJobId(tick), {})).toBe(tick);
    }
    // A scheduled and a manual tick of the same millisecond get different ids.
    expect(userJobId(`repeat:sync:${due}`, 'u1')).not.toBe(userJobId(manualTickId('sync', due), 'u1'));
    // Any other tick id is kept (':' replaced) and marked, so it is never read as a time.
    expect(userJobId('fault', 'u1')).toBe('_fault__u1');
    expect(tickOf('sync', '_fault__u1', {})).toBeUndefined();
    // A job another job added is named after its kind, not a tick; a tick in the data wins.
    expect(tickOf('tag', 'tag__t1__digest', { parent: { kind: 'index', jobId: 'x' } })).toBeUndefined();
    expect(tickOf('sync', 'whatever__u1', { tick: 'repeat:sync:5' })).toBe('repeat:sync:5');
    // A replayed fan-out job still names its tick.
    expect(tickOf('sync', `${userJobId('repeat:sync:9', 'u1')}__replay`, {})).toBe('repeat:sync:9');
  });
});

describe('fan-out', () => {
  it('pages through all users and adds one job per user, in bulk', async () => {
    const x = await h({ SPOTTER_JOBS_FANOUT_PAGE: '3' });
    const pages: number[] = [];
    const r = await fanOut(
      { ...x, handlers: testHandlers(users(10)) },
      { kind: x.config.kinds.sync as KindConfig, tickId: 'repeat:sync:1000', scheduledFor: 1000, spreadMs: 0 },
      async (p) => {
        pages.push(p.users);
      },
    );
    expect(r).toEqual({
      users: 10,
      added: 10,
      coalesced: 0,
      errors: 0,
      duplicates: 0,
      listing: { from: 0, reached: 10, of: 10, wrapped: false },
    });
    expect(pages).toEqual([3, 6, 9, 10]);
    expect(await x.queues.get('sync').getWaitingCount()).toBe(10);
    // The tick is in the id, in base 36, and comes back from it; the data holds no copy of it.
    const job = await x.queues.get('sync').getJob(`${(1000).toString(36)}__u7`);
    expect(job?.data).toEqual({ userId: 'u7', scheduledFor: 1000 });
    expect(tickOf('sync', String(job?.id), job?.data)).toBe('repeat:sync:1000');
    expect(job?.opts.attempts).toBe(5);
  });

  it("keeps a waiting job's hash in Redis' compact encoding with the shipped Redis settings, even for UUID user ids", async () => {
    // The shipped Redis (compose, Kubernetes, the private one `npm start` runs) sets
    // hash-max-listpack-value 256; a job whose options or data grew past it would take twice the memory.
    const r = await privateRedis({ appendonly: false });
    try {
      const x = await harness({ REDIS_URL: r.redis.url });
      open.push(x);
      const ids = ['3f2b8c1e-9d4a-4e7b-a1c2-5d6e7f8a9b0c', 'u1'];
      await fanOut(
        { ...x, handlers: testHandlers(ids) },
        { kind: x.config.kinds.sync as KindConfig, tickId: 'repeat:sync:1796416412392', scheduledFor: 1796416412392, spreadMs: 0 },
      );
      for (const id of ids) {
        const key = `${x.prefix}:sync:${userJobId('repeat:sync:1796416412392', id)}`;
        expect(await x.conn.exists(key)).toBe(1);
        expect(await x.conn.object('ENCODING', key)).toBe('listpack');
      }
      // What the setting is for: with Redis' default the same job is a full hash table.
      await x.conn.config('SET', 'hash-max-listpack-value', '64');
      await fanOut(
        { ...x, handlers: testHandlers(['u2']) },
        { kind: x.config.kinds.sync as KindConfig, tickId: 'repeat:sync:1796416412393', scheduledFor: 1796416412393, spreadMs: 0 },
      );
      expect(await x.conn.object('ENCODING', `${x.prefix}:sync:${userJobId('repeat:sync:1796416412393', 'u2')}`)).toBe('hashtable');
    } finally {
      await Promise.all(open.splice(0).map((o) => o.dispose()));
      await r.dispose();
    }
  });

  it('redone for the same tick (a producer died half-way) adds no second job for any user', async () => {
    const x = await h();
    const deps = { ...x, handlers: testHandlers(users(50)) };
    const tick = { kind: x.config.kinds.enrichment as KindConfig, tickId: 'repeat:enrichment:5', scheduledFor: 5, spreadMs: 0 };
    await fanOut(deps, tick);
    await fanOut(deps, tick);
    expect(await x.queues.get('enrichment').getWaitingCount()).toBe(50);
  });

  it('coalesces a user whose previous job has not started, not one whose job is running', async () => {
    const x = await h({ SPOTTER_JOBS_SYNC_CONCURRENCY: '1' });
    const release = deferred();
    const started: string[] = [];
    const handlers = testHandlers(['a', 'b'], async (userId: string, _ctx: HandlerContext) => {
      started.push(userId);
      await release.promise;
      return null;
    });
    const deps = { ...x, handlers };
    const first = await fanOut(deps, { kind: x.config.kinds.sync as KindConfig, tickId: 't1', scheduledFor: 1, spreadMs: 0 });
    expect(first).toMatchObject({ added: 2, coalesced: 0 });
    const consumers = new Consumers({ ...x, handlers }, kinds(x.config, 'sync'));
    consumers.start();
    try {
      await waitFor('user a running', () => started.includes('a'));
      const second = await fanOut(deps, { kind: x.config.kinds.sync as KindConfig, tickId: 't2', scheduledFor: 2, spreadMs: 0 });
      // a's job runs, so a gets a new one, kept until a's job finishes (never two of a's jobs at
      // once); b's job still waits, so b is coalesced into it.
      expect(second).toMatchObject({ users: 2, added: 1, coalesced: 1 });
      expect(await x.queues.get('sync').getJob('t2__a')).toBeUndefined();
      release.resolve();
      await waitFor("a's kept job enqueued and run", () => started.filter((u) => u === 'a').length === 2);
      expect(await x.queues.get('sync').getJob('t2__b')).toBeUndefined();
      await waitFor('all done', async () => (await x.queues.get('sync').getCompletedCount()) === 3);
      expect(started.sort()).toEqual(['a', 'a', 'b']);
    } finally {
      release.resolve();
      await consumers.close();
    }
  });

  it('spreads jobs over the window by a stable per-user delay', async () => {
    const x = await h();
    const ids = users(20);
    await fanOut(
      { ...x, handlers: testHandlers(ids) },
      { kind: x.config.kinds['write-back'] as KindConfig, tickId: 't', scheduledFor: 1, spreadMs: 60_000 },
    );
    const delayed = await x.queues.get('writeback').getDelayed(0, -1);
    expect(delayed.length).toBeGreaterThan(15);
    for (const j of delayed) {
      expect(j.opts.delay).toBe(spreadDelay(j.data.userId, 60_000));
      expect(j.opts.delay).toBeLessThan(60_000);
    }
    expect(spreadDelay('u1', 60_000)).toBe(spreadDelay('u1', 60_000));
    expect(new Set(ids.map((u) => spreadDelay(u, 60_000))).size).toBeGreaterThan(15);
  });

  it('counts invalid user ids as errors instead of dropping them silently', async () => {
    const x = await h();
    const r = await fanOut(
      { ...x, handlers: testHandlers(['ok1', 'bad id', '', 'ok2', 'x'.repeat(300)]) },
      {
        kind: x.config.kinds.sync as KindConfig,
        tickId: 't',
        scheduledFor: 1,
        spreadMs: 0,
      },
    );
    expect(r).toMatchObject({ users: 5, added: 2, coalesced: 0, errors: 3, duplicates: 0 });
  });
});
