/**
 * Runs started by hand (`trigger`, POST /api/schedules/:kind/run) in the same millisecond: each
 * accepted request is a job of its own, or is told which waiting job it joined.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { builtinCatalog } from '../src/config/catalog-source.js';
import type { Declarations } from '../src/config/kind-config.js';
import { kindByName } from '../src/jobs/registry.js';
import { trigger } from '../src/ops/trigger.js';
import { type Harness, harness } from './helpers/harness.js';

const catalog: Declarations = {
  ...builtinCatalog(),
  report: { decl: { scope: 'global', schedule: '1h' }, source: 'test' },
  fetch: { decl: { scope: 'item' }, source: 'test' },
};

let x: Harness | undefined;
afterEach(async () => {
  vi.restoreAllMocks();
  await x?.dispose();
  x = undefined;
});

/** Runs `fn` with the clock standing still, as 40 requests arriving within one millisecond see it. */
async function inOneMillisecond<T>(fn: () => Promise<T>): Promise<T> {
  const now = Date.now();
  const spy = vi.spyOn(Date, 'now').mockReturnValue(now);
  try {
    return await fn();
  } finally {
    spy.mockRestore();
  }
}

describe('manual runs in the same millisecond', () => {
  it('make one job each for a global kind, with distinct ids', async () => {
    x = await harness({}, { catalog });
    const h = x;
    const kind = kindByName(h.config, 'report');
    if (!kind) throw new Error('no report kind');
    const runs = await inOneMillisecond(() => Promise.all(Array.from({ length: 40 }, () => trigger(h.queues, h.config, kind))));
    expect(new Set(runs.map((r) => r.jobId)).size).toBe(40);
    expect(await h.queues.get('report').getJobCountByTypes('waiting', 'delayed')).toBe(40);
  });

  it('make one job each for the same item', async () => {
    x = await harness({}, { catalog });
    const h = x;
    const kind = kindByName(h.config, 'fetch');
    if (!kind) throw new Error('no fetch kind');
    const runs = await inOneMillisecond(() =>
      Promise.all(Array.from({ length: 5 }, () => trigger(h.queues, h.config, kind, { item: { id: 'i1' } }))),
    );
    expect(new Set(runs.map((r) => r.jobId)).size).toBe(5);
  });

  it('say when a user run joined that user’s waiting job, and which', async () => {
    x = await harness({}, { catalog });
    const h = x;
    const kind = kindByName(h.config, 'sync');
    if (!kind) throw new Error('no sync kind');
    const [a, b] = await inOneMillisecond(() =>
      Promise.all([trigger(h.queues, h.config, kind, { userId: 'u1' }), trigger(h.queues, h.config, kind, { userId: 'u1' })]),
    );
    expect(b?.jobId).toBe(a?.jobId);
    expect([a?.coalesced, b?.coalesced].sort()).toEqual([false, true]);
    expect(await h.queues.get('sync').getJobCountByTypes('waiting')).toBe(1);
  });
});
