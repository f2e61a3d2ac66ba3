/** A handler need not be async: one that returns a value or throws synchronously settles like any other. */
import { describe, expect, it } from 'vitest';
import type { Handler } from '../src/handlers/types.js';
import { addUserJob, useHarnesses } from './helpers/in-process.js';
import { waitFor } from './helpers/wait-for.js';

const { h, consume } = useHarnesses();

async function setup(run: Handler) {
  const x = await h({ SPOTTER_JOBS_ATTEMPTS: '2', SPOTTER_JOBS_BACKOFF: '20ms' });
  const consumers = consume(x, run);
  return { x, consumers, add: (userId: string) => addUserJob(x, userId) };
}

describe('handlers written as plain functions', () => {
  it('completes a job whose handler returns its result without a promise', async () => {
    const { x, add } = await setup(((userId: string) => ({ done: userId })) as unknown as Handler);
    await add('42');
    await waitFor('completed', async () => (await x.queues.get('sync').getCompletedCount()) === 1);
    expect((await x.queues.get('sync').getJob('t__42'))?.returnvalue).toEqual({ done: '42' });
  });

  it('retries, then dead-letters, a handler that throws before returning, and frees its slot each time', async () => {
    let calls = 0;
    const { x, consumers, add } = await setup(((userId: string) => {
      calls++;
      throw new Error(`no provider for ${userId}`);
    }) as unknown as Handler);
    await add('7');
    await waitFor('dead letter', async () => (await x.deadLetters.count()) === 1);
    expect(calls).toBe(2);
    const [d] = await x.deadLetters.list();
    expect(d?.failedReason).toBe('attempts exhausted (2/2): no provider for 7');
    expect(consumers.slots().find((s) => s.queue === 'sync')?.busy).toBe(0);
  });
});
