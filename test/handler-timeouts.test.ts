/** A handler that runs too long: timed out at its kind's timeout, or warned about when it blocks past its lock. */
import { describe, expect, it } from 'vitest';
import type { Handler } from '../src/handlers/types.js';
import { lostLockJobId } from '../src/workers/lost-lock.js';
import { capturingLogger } from './helpers/harness.js';
import { addUserJob, useHarnesses } from './helpers/in-process.js';
import { readLedger } from './helpers/ledger.js';
import { useProcessScenes } from './helpers/process-scene.js';
import { waitFor } from './helpers/wait-for.js';

const { h, consume } = useHarnesses();

async function setup(run: Handler, env: Record<string, string> = {}) {
  const { log, lines } = capturingLogger('info');
  const x = await h({ SPOTTER_JOBS_ATTEMPTS: '2', SPOTTER_JOBS_BACKOFF: '20ms', ...env }, { log });
  const consumers = consume(x, run);
  return { x, consumers, add: (userId: string) => addUserJob(x, userId), lines };
}

describe('a handler that never settles', () => {
  it('is timed out in module mode: signal aborted, attempt retried, slot freed, overdue reported', async () => {
    const aborted: boolean[] = [];
    const { x, consumers, add } = await setup(
      async (userId, ctx) => {
        if (userId !== 'hang') return { ok: userId };
        ctx.signal.addEventListener('abort', () => aborted.push(true));
        // Ignores its signal and never settles.
        return new Promise(() => {});
      },
      { SPOTTER_JOBS_SYNC_TIMEOUT: '300ms', SPOTTER_JOBS_SYNC_CONCURRENCY: '1' },
    );
    await add('hang');
    await add('after');
    const [d] = await waitFor('the hung job dead-lettered', async () => {
      const l = await x.deadLetters.list();
      return l.length > 0 ? l : undefined;
    });
    expect(d?.failedReason).toBe('attempts exhausted (2/2): timed out after 300ms');
    expect(aborted).toEqual([true, true]);
    // Concurrency 1: the next job ran although the hung handler is still "running".
    await waitFor('the next job', async () => (await x.queues.get('sync').getCompletedCount()) === 1);
    expect(consumers.overdue()).toEqual(
      [
        { queue: 'sync', jobId: 't__hang', attempt: 1 },
        { queue: 'sync', jobId: 't__hang', attempt: 2 },
      ].map((o) => expect.objectContaining(o)),
    );
  });
});

describe('a handler that blocks the event loop past the lock', () => {
  const scene = useProcessScenes();
  it('warns naming the job, and does not count the run as completed', async () => {
    const s = scene({ SPOTTER_JOBS_LOCK_DURATION: '1s', SPOTTER_JOBS_STALLED_INTERVAL: '500ms' });
    const a = s.start(['worker', '--queues', 'sync'], { FIXTURE_BUSY_MS: '4000' });
    await a.waitForLog((l) => l.msg === 'worker started', 'worker a started');
    const jobId = await s.trigger('busy1');
    await waitFor('a started the busy job', () => readLedger(s.ledger).find((e) => e.event === 'start' && e.pid === a.pid));
    const b = s.start(['worker', '--queues', 'sync']);
    await waitFor('b completed it', () => readLedger(s.ledger).find((e) => e.event === 'end' && e.pid === b.pid), { timeoutMs: 20_000 });
    const warning = await a.waitForLog((l) => l.msg.includes('lost the lock'), 'lock-lost warning', 20_000);
    expect(warning).toMatchObject({ level: 40, queue: 'sync', jobId });
    // B logs its completion once BullMQ stored it, a moment after its handler's ledger line.
    await b.waitForLog((l) => l.msg === 'job completed' && l.jobId === jobId, 'b completed it');
    expect(a.logs().filter((l) => l.msg === 'job completed')).toEqual([]);
    expect(b.logs().filter((l) => l.msg === 'job completed' && l.jobId === jobId)).toHaveLength(1);
  });

  it('names the job whole when its id holds dots (a manual tick, a user like jane.doe)', () => {
    // BullMQ's messages put a dot right after the id, so the id runs to the last dot before white
    // space: stopping at the first dot would name the first job "m".
    for (const id of ['m.mxb2u8gp__jane.doe', 'mxb2u8gp__u1', 'sync__x.y__replay'])
      for (const message of [`Missing lock for job ${id}. moveToFinished`, `Lock mismatch for job ${id}. Cmd moveToFinished from active`])
        expect(lostLockJobId(message)).toBe(id);
    expect(lostLockJobId('Connection is closed.')).toBeUndefined();
  });
});
