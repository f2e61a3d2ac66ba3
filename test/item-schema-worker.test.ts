/**
 * An item kind's schema holds where the job runs, not only where it is added: anything may write a
 * job to Redis (the board's "add job", another client), and the handler must never see data its
 * schema refuses.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { builtinCatalog } from '../src/config/catalog-source.js';
import type { Declarations } from '../src/config/kind-config.js';
import type { Handlers, ItemHandler } from '../src/handlers/types.js';
import { jobOptions } from '../src/jobs/queues.js';
import { kindsOf } from '../src/jobs/registry.js';
import { Consumers } from '../src/workers/consumer.js';
import { type Harness, harness } from './helpers/harness.js';
import { waitFor } from './helpers/wait-for.js';

const catalog: Declarations = {
  ...builtinCatalog(),
  download: {
    decl: {
      scope: 'item',
      schema: { type: 'object', properties: { url: { type: 'string' } }, required: ['url'], additionalProperties: false },
    },
    source: 'test',
  },
};

let x: Harness | undefined;
afterEach(async () => {
  await x?.dispose();
  x = undefined;
});

describe('an item job whose data breaks its kind schema', () => {
  it('is dead-lettered as invalid without reaching the handler, and the good ones still run', async () => {
    x = await harness({ SPOTTER_JOBS_ATTEMPTS: '3' }, { catalog });
    const h = x;
    const kind = kindsOf(h.config).find((k) => k.name === 'download');
    if (!kind) throw new Error('no download kind');
    const seen: string[] = [];
    const run: ItemHandler = async (item) => void seen.push(item.id);
    const handlers: Handlers = { mode: 'module', listUsers: async function* () {}, run: { download: run } };
    const consumers = new Consumers({ ...h, handlers }, [kind]);
    consumers.start();
    h.lifecycle.add({ name: 'consumers', close: () => consumers.close() });
    // Written straight to the queue, as the board's "add job" does: no check on the way in.
    const q = h.queues.get('download');
    await q.add('item', { id: 'bad', data: { url: 42 }, scheduledFor: 1 }, { ...jobOptions(kind), jobId: 'x__bad' });
    await q.add('item', { id: 'good', data: { url: 'https://example.org/a' }, scheduledFor: 1 }, { ...jobOptions(kind), jobId: 'x__good' });
    await waitFor('a dead letter and a completion', async () => (await h.deadLetters.count()) === 1 && (await q.getCompletedCount()) === 1);
    const [d] = await h.deadLetters.list();
    expect(d?.sourceJobId).toBe('x__bad');
    expect(d?.failedReason).toMatch(/^invalid job data: .*does not match the schema: url: /);
    // Invalid data is permanent: one attempt, not three.
    expect(d?.attemptsMade).toBe(1);
    expect(seen).toEqual(['good']);
  });
});
