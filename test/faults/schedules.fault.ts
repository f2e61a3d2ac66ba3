import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { schedulePendingKey } from '../../src/redis/keys.js';
import { occurrenceJobId } from '../../src/schedules/subject/occurrence-job.js';
import { SubjectSchedules } from '../../src/schedules/subject/store.js';
import { waitFor } from '../helpers/wait-for.js';
import { report, Scene } from './scene.js';

const scenes: Scene[] = [];
afterEach(async () => {
  for (const s of scenes.splice(0)) await s.dispose();
});

const N = 10_000;

describe('subject schedules', () => {
  it('10,000 schedules due in one minute; one of two producers SIGKILLed while materialising', async () => {
    const s = await new Scene({ SPOTTER_JOBS_SCHEDULE_WINDOW: '5s', SPOTTER_JOBS_SYNC_CONCURRENCY: '50' }).start();
    scenes.push(s);
    await s.worker();
    const store = new SubjectSchedules(s.conn, loadConfig(s.env()));
    // Runs spread over 40 s from 10 s on: the producers materialise them as they come within 5 s.
    const start = Date.now() + 10_000;
    const ids: string[] = [];
    for (let i = 0; i < N; i += 1000) {
      const page = Array.from({ length: 1000 }, (_, k) => ({
        kind: 'sync',
        user: `u${i + k}`,
        rule: `at ${new Date(start + Math.floor(((i + k) * 40_000) / N)).toISOString()}`,
      }));
      for (const v of await store.addMany(page)) {
        if ('error' in v) throw new Error(v.error);
        ids.push(occurrenceJobId(v.id, Date.parse(v.next as string)));
      }
    }
    const doomed = s.spawn(['producer']);
    s.spawn(['producer']);
    await doomed.waitForLog((l) => l.msg === 'producer started', 'producer started');
    // Midway: once a third of the runs are jobs (started or pending), the first producer dies.
    const taken = async () => (await s.conn.zcard(schedulePendingKey(s.prefix))) + s.completed().size;
    await waitFor('a third of the runs materialised', async () => (await taken()) >= N / 3 || undefined, {
      timeoutMs: 60_000,
      intervalMs: 20,
    });
    doomed.kill('SIGKILL');
    await doomed.exited;
    await s.settled(ids, 120_000);
    const t = await s.tally(ids);
    const wanted = new Set(ids);
    const late = s.entries().filter((e) => e.event === 'start' && wanted.has(e.jobId));
    const lagP99 = percentile(
      late.map((e) => e.t - Number(e.jobId.split('__')[2])),
      0.99,
    );
    const passed = t.lost === 0 && t.duplicates === 0;
    report({
      fault: 'SIGKILL one of two producers while 10,000 subject schedule runs due in one minute materialise',
      jobs: N,
      ...t,
      criterion: 'every run exactly once: lost = 0, duplicates = 0',
      passed,
      note: `run time → start p99 ${lagP99} ms (window 5s; one worker, concurrency 50)`,
    });
    expect(t.lost).toBe(0);
    expect(t.duplicates).toBe(0);
  }, 240_000);
});

function percentile(xs: number[], p: number): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0;
}
