/** Global and item kinds in process, on real Redis: a tick's one job, ctx.enqueue and what it refuses. */
import { afterEach, describe, expect, it } from 'vitest';
import { builtinCatalog } from '../src/config/catalog-source.js';
import type { Declarations } from '../src/config/kind-config.js';
import type { HandlerContext } from '../src/handlers/types.js';
import { MAX_ITEM_DATA_BYTES } from '../src/jobs/add-job.js';
import { TickConsumer } from '../src/producers/tick-consumer.js';
import { consumeKinds, handlersWith } from './helpers/handlers.js';
import { type Harness, harness } from './helpers/harness.js';
import { waitFor } from './helpers/wait-for.js';

const catalog: Declarations = {
  ...builtinCatalog(),
  cleanup: { decl: { scope: 'global', schedule: '1h', followUps: ['tag'] }, source: 'test' },
  tag: {
    decl: {
      scope: 'item',
      schema: { type: 'object', properties: { n: { type: 'integer' } }, required: ['n'], additionalProperties: false },
    },
    source: 'test',
  },
  notify: { decl: { scope: 'user' }, source: 'test' },
};

let x: Harness | undefined;
afterEach(async () => {
  await x?.dispose();
  x = undefined;
});

describe('global kinds', () => {
  it('turn a tick into exactly one job, even when the tick is processed twice', async () => {
    x = await harness({}, { catalog });
    const h = x;
    const seen: HandlerContext[] = [];
    await consumeKinds(h, { cleanup: async (ctx: HandlerContext) => void seen.push(ctx) }, ['cleanup']);
    const ticks = new TickConsumer({ ...h, handlers: handlersWith({}) });
    const tick = await h.queues.schedules().add('tick', { schedule: 'cleanup' }, { jobId: 'repeat:cleanup:5' });
    // A tick redone after its producer died: the same job id, so the same one job.
    await ticks.process(tick);
    await ticks.process(tick);
    await waitFor('the cleanup job ran', () => seen.length === 1);
    expect(await h.queues.get('cleanup').getCompletedCount()).toBe(1);
    expect(seen[0]?.kind).toBe('cleanup');
    expect(seen[0]?.scheduledFor).toBe(tick.timestamp);
  });
});

describe('ctx.enqueue', () => {
  it('adds each child once however often the parent runs, with a parent reference', async () => {
    x = await harness({ SPOTTER_JOBS_CLEANUP_ATTEMPTS: '3' }, { catalog });
    const h = x;
    const tagged: Array<{ id: string; data: unknown; parent: unknown }> = [];
    let runs = 0;
    await consumeKinds(
      h,
      {
        cleanup: async (ctx: HandlerContext) => {
          runs++;
          for (let n = 0; n < 5; n++) await ctx.enqueue('tag', { id: `i${n}`, data: { n } });
          // The first attempt fails after adding its children; the retry adds them again.
          if (ctx.attempt === 1) throw new Error('flaky after enqueue');
        },
        tag: async (item: { id: string; data: unknown }, ctx: HandlerContext) => void tagged.push({ ...item, parent: ctx.parent }),
      },
      ['cleanup', 'tag'],
    );
    await h.queues.get('cleanup').add('run', { scheduledFor: 1 }, { jobId: 'g1', attempts: 3, backoff: { type: 'spotter', delay: 10 } });
    await waitFor(
      'five items tagged and the parent done',
      async () => tagged.length >= 5 && (await h.queues.get('cleanup').getCompletedCount()) === 1,
    );
    expect(runs).toBe(2);
    expect(await h.queues.get('tag').getCompletedCount()).toBe(5);
    expect(tagged.map((t) => t.id).sort()).toEqual(['i0', 'i1', 'i2', 'i3', 'i4']);
    expect(tagged[0]?.parent).toEqual({ kind: 'cleanup', jobId: 'g1' });
    const job = (await h.queues.get('tag').getCompleted())[0];
    expect(job?.data.parent).toEqual({ kind: 'cleanup', jobId: 'g1' });
  });

  it.each([
    ['an unknown kind', (ctx: HandlerContext) => ctx.enqueue('nope', {}), /no such kind/],
    ['a kind outside its followUps', (ctx: HandlerContext) => ctx.enqueue('notify', { userId: 'u1' }), /followUps are tag/],
    [
      'data that fails the schema',
      (ctx: HandlerContext) => ctx.enqueue('tag', { id: 'a', data: { n: 'one' } }),
      /does not match the schema: n:/,
    ],
    [
      'data over the size cap',
      (ctx: HandlerContext) => ctx.enqueue('tag', { id: 'a', data: { n: 1, pad: 'x'.repeat(MAX_ITEM_DATA_BYTES) } }),
      /bytes as JSON; at most 16384/,
    ],
    ['data that is not JSON', (ctx: HandlerContext) => ctx.enqueue('tag', { id: 'a', data: { n: 10n } }), /not JSON/],
    [
      'a bad item id',
      (ctx: HandlerContext) => ctx.enqueue('tag', { id: 'a b', data: { n: 1 } }),
      /"a b" is not an item id: it holds other than letters/,
    ],
    ['a user for an item kind', (ctx: HandlerContext) => ctx.enqueue('tag', { userId: 'u1' }), /takes "id" and "data", not "userId"/],
  ])('refuses %s where it is added, and dead-letters the parent with that reason', async (_what, act, reason) => {
    x = await harness({}, { catalog });
    const h = x;
    const errors: unknown[] = [];
    await consumeKinds(
      h,
      {
        cleanup: async (ctx: HandlerContext) => {
          try {
            await act(ctx);
          } catch (err) {
            errors.push(err);
            throw err;
          }
        },
      },
      ['cleanup'],
    );
    await h.queues.get('cleanup').add('run', { scheduledFor: 1 }, { jobId: 'g1', attempts: 5 });
    const [d] = await waitFor('a dead letter', async () => {
      const l = await h.deadLetters.list();
      return l.length > 0 ? l : undefined;
    });
    expect(errors).toHaveLength(1);
    expect(d?.failedReason).toMatch(reason);
    expect(d?.attemptsMade).toBe(1);
  });
});
