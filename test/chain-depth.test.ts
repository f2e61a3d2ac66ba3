/** Chains end: a job knows how deep it is, and a child past its kind's depth is refused. */
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../src/config/errors.js';
import type { Declarations } from '../src/config/kind-config.js';
import { loadConfig } from '../src/config/load.js';
import type { HandlerContext, Handlers } from '../src/handlers/types.js';
import { kindsOf } from '../src/jobs/registry.js';
import { Consumers } from '../src/workers/consumer.js';
import { type Harness, harness } from './helpers/harness.js';
import { waitFor } from './helpers/wait-for.js';

// `a` and `b` add each other: without a limit, a chain without end.
const catalog: Declarations = {
  a: { decl: { scope: 'item', followUps: ['b'] }, source: 'test' },
  b: { decl: { scope: 'item', followUps: ['a'] }, source: 'test' },
};

let x: Harness | undefined;
afterEach(async () => {
  await x?.dispose();
  x = undefined;
});

async function runCycle(env: Record<string, string>) {
  x = await harness(env, { catalog });
  const h = x;
  const depths: number[] = [];
  const next = (name: string) => async (item: { id: string }, ctx: HandlerContext) => {
    depths.push(ctx.depth);
    await ctx.enqueue(name, { id: item.id });
  };
  const handlers: Handlers = { mode: 'module', listUsers: async function* () {}, run: { a: next('b'), b: next('a') } };
  const c = new Consumers({ ...h, handlers }, kindsOf(h.config));
  c.start();
  h.lifecycle.add({ name: 'consumers', close: () => c.close() });
  await h.queues.get('a').add('item', { id: 't1', data: null, scheduledFor: 1 }, { jobId: 'a1' });
  const [d] = await waitFor('the chain dead-lettered', async () => {
    const l = await h.deadLetters.list();
    return l.length > 0 ? l : undefined;
  });
  const completed = (await h.queues.get('a').getCompletedCount()) + (await h.queues.get('b').getCompletedCount());
  return { d, depths, completed };
}

describe('chain depth', () => {
  it('stops a cycle of kinds at the default depth of 32, dead-lettering the job that would go past it', async () => {
    const { d, depths, completed } = await runCycle({});
    expect(d?.failedReason).toMatch(
      /cannot add a (a|b) job: it would be 33 deep in a chain .* allows 32 \(SPOTTER_JOBS_(A|B)_MAX_CHAIN_DEPTH\)/,
    );
    expect(d?.data).toMatchObject({ depth: 32 });
    expect(completed).toBe(32);
    expect(depths.sort((p, q) => p - q)).toEqual(Array.from({ length: 33 }, (_, i) => i));
    expect(await x?.queues.get('a').count()).toBe(0);
    expect(await x?.queues.get('b').count()).toBe(0);
  });

  it("takes the child kind's limit from SPOTTER_JOBS_<KIND>_MAX_CHAIN_DEPTH", async () => {
    const { d, completed } = await runCycle({ SPOTTER_JOBS_B_MAX_CHAIN_DEPTH: '3' });
    // a(0) → b(1) → a(2) → b(3) → a(4) → b(5) refused: b allows 3.
    expect(d?.failedReason).toMatch(/cannot add a b job: it would be 5 deep .* b allows 3/);
    expect(completed).toBe(4);
  });
});

describe('chain settings in the configuration', () => {
  it('reads maxChainDepth and followUps per kind, the three built-in kinds included', () => {
    const c = loadConfig({ SPOTTER_JOBS_SYNC_FOLLOW_UPS: 'enrichment, write-back', SPOTTER_JOBS_SYNC_MAX_CHAIN_DEPTH: '0' });
    expect(c.kinds.sync?.followUps).toEqual(['enrichment', 'write-back']);
    expect(c.kinds.sync?.maxChainDepth).toBe(0);
    expect(c.kinds.enrichment?.maxChainDepth).toBe(32);
    expect(loadConfig({ SPOTTER_JOBS_ENRICHMENT_FOLLOW_UPS: 'none' }).kinds.enrichment?.followUps).toEqual([]);
  });

  it.each([
    ['SPOTTER_JOBS_SYNC_FOLLOW_UPS', 'download'],
    ['SPOTTER_JOBS_SYNC_FOLLOW_UPS', 'Sync!'],
    ['SPOTTER_JOBS_SYNC_MAX_CHAIN_DEPTH', '1001'],
    ['SPOTTER_JOBS_SYNC_MAX_CHAIN_DEPTH', '-1'],
  ])('refuses %s=%s naming the variable', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(name);
  });
});
