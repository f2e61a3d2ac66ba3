/** A handler's result is stored before the job counts as completed; one that cannot be stored fails the job for good. */
import { describe, expect, it } from 'vitest';
import type { Handler } from '../src/handlers/types.js';
import { capturingLogger } from './helpers/harness.js';
import { addUserJob, useHarnesses } from './helpers/in-process.js';
import { waitFor } from './helpers/wait-for.js';

const { h, consume } = useHarnesses();

async function setup(run: Handler, env: Record<string, string> = {}) {
  const { log, lines } = capturingLogger('info');
  const x = await h({ SPOTTER_JOBS_ATTEMPTS: '2', SPOTTER_JOBS_BACKOFF: '20ms', ...env }, { log });
  const consumers = consume(x, run);
  return { x, consumers, add: (userId: string) => addUserJob(x, userId), lines };
}

describe('results that cannot be stored', () => {
  it.each([
    [
      'circular',
      () => {
        const o: Record<string, unknown> = {};
        o.self = o;
        return o;
      },
      /^permanent: the result is not JSON: .*circular/i,
    ],
    ['a BigInt', () => ({ n: 10n }), /^permanent: the result is not JSON: .*BigInt/],
    ['too large', () => ({ blob: 'x'.repeat(20_000) }), /^permanent: the result is 200\d\d bytes as JSON; at most 16384/],
  ])('fails a %s result permanently, and never logs or counts it completed', async (_what, result, reason) => {
    const { x, add, lines } = await setup(async () => result());
    await add('u1');
    const [d] = await waitFor('dead letter', async () => {
      const l = await x.deadLetters.list();
      return l.length > 0 ? l : undefined;
    });
    expect(d?.failedReason).toMatch(reason);
    expect(d?.attemptsMade).toBe(1);
    expect(lines.filter((l) => l.msg === 'job completed')).toEqual([]);
  });

  it('logs "job completed" only once BullMQ has stored the result', async () => {
    const { x, add, lines } = await setup(async () => ({ fine: true }));
    await add('u1');
    await waitFor('completed log', () => lines.find((l) => l.msg === 'job completed'));
    expect((await x.queues.get('sync').getJob('t__u1'))?.finishedOn).toBeGreaterThan(0);
  });
});
