/**
 * A job abandoned at a shutdown deadline runs again on another worker once its lock has lapsed and
 * a stalled check has seen it: BullMQ's checker marks every active job on one pass and moves a
 * marked job whose lock is gone on the next, so the bound is the lock plus one check interval.
 */
import { describe, expect, it } from 'vitest';
import { readLedger } from './helpers/ledger.js';
import { useProcessScenes } from './helpers/process-scene.js';
import { waitFor } from './helpers/wait-for.js';

const scene = useProcessScenes();

describe('a job abandoned at the shutdown deadline', () => {
  it('keeps its lock past its worker, then a running worker finds it stalled and runs it, same attempt', async () => {
    const s = scene({
      SPOTTER_JOBS_SHUTDOWN_TIMEOUT: '1s',
      SPOTTER_JOBS_LOCK_DURATION: '3s',
      SPOTTER_JOBS_STALLED_INTERVAL: '1s',
    });
    const a = s.start(['worker'], { FIXTURE_SLOW_MS: '600000' });
    await a.waitForLog((l) => l.msg === 'worker started', 'worker A started');
    const jobId = await s.trigger('slow-left');
    await waitFor('A runs the job', () => readLedger(s.ledger).some((e) => e.event === 'start' && e.jobId === jobId && e.pid === a.pid));
    // B is already running, as in a deployment: its stalled checker is the one that hands the job on.
    const b = s.start(['worker'], { FIXTURE_SLOW_MS: '0' });
    await b.waitForLog((l) => l.msg === 'worker started', 'worker B started');

    a.kill('SIGTERM');
    const deadline = await a.waitForLog((l) => l.msg.startsWith('shutdown deadline reached'), 'the deadline');
    expect(deadline.jobIds).toEqual([jobId]);
    expect((await a.exited).code).toBe(1);
    // The process is gone, its lock is not: nothing may take the job until the lock lapses.
    const lock = `${s.prefix}:sync:${jobId}:lock`;
    expect(await s.conn.exists(lock)).toBe(1);

    const stalled = await b.waitForLog((l) => l.msg.startsWith('job stalled') && l.jobId === jobId, 'B finds the job stalled');
    await waitFor('B finishes the job', () => readLedger(s.ledger).some((e) => e.event === 'end' && e.jobId === jobId && e.pid === b.pid));
    // The handler's ledger line comes a moment before BullMQ stores the completion and drops the lock.
    await waitFor('B completes the job and lets its lock go', async () => (await s.conn.exists(lock)) === 0);
    const runs = readLedger(s.ledger).filter((e) => e.jobId === jobId && e.event === 'start');
    expect(runs.map((e) => [e.pid, e.attempt])).toEqual([
      [a.pid, 1],
      [b.pid, 1],
    ]);
    // In this order: A's deadline, B's stalled check, B's run.
    const rerun = runs[1]?.t as number;
    expect(Date.parse(String(deadline.time))).toBeLessThanOrEqual(Date.parse(String(stalled.time)));
    expect(Date.parse(String(stalled.time))).toBeLessThanOrEqual(rerun);
    // Counted as a stall (SPOTTER_JOBS_MAX_STALLED guards against a job that kills every worker).
    expect(await s.conn.hget(`${s.prefix}:sync:${jobId}`, 'stc')).toBe('1');
  });
});
