/**
 * Per-user exclusivity across kinds (policies issue): sync and write-back share a group, so one
 * user's two jobs never run at the same time on any worker, even with a worker killed mid-job.
 */
import { describe, expect, it } from 'vitest';
import { type LedgerEntry, readLedger } from './helpers/ledger.js';
import { useProcessScenes } from './helpers/process-scene.js';
import { runCli } from './helpers/spawn-cli.js';
import { waitFor } from './helpers/wait-for.js';

const scene = useProcessScenes();

describe('exclusivity groups', () => {
  it('500 users, sync and write-back together on 3 workers, one killed: 0 overlaps, 0 lost, no user locked past the lock', async () => {
    const s = scene({
      FIXTURE_USERS: '500',
      FIXTURE_RANDOM_MS: '60',
      FIXTURE_FSYNC: '1',
      SPOTTER_JOBS_LOCK_DURATION: '2s',
      SPOTTER_JOBS_STALLED_INTERVAL: '1s',
      SPOTTER_JOBS_LOG_LEVEL: 'warn',
      SPOTTER_SYNC_INTERVAL: '1h',
      SPOTTER_METADATA_ENABLED: 'false',
    });
    const producer = s.start(['producer'], { SPOTTER_JOBS_LOG_LEVEL: 'info' });
    await producer.waitForLog((l) => l.msg === 'producer started', 'producer started');
    // Both fan-outs first: 1,000 jobs, two per user, in the same user order on both queues, so that
    // the workers reach each user's sync and write-back at about the same moment.
    for (const kind of ['sync', 'write-back']) expect((await runCli(['trigger', kind], s.env)).code).toBe(0);
    await waitFor(
      'both fan-outs',
      async () => (await s.conn.llen(`${s.prefix}:sync:wait`)) === 500 && (await s.conn.llen(`${s.prefix}:writeback:wait`)) === 500,
    );
    const workers = [0, 1, 2].map(() => s.start(['worker', '--queues', 'sync,writeback'], { SPOTTER_JOBS_LOG_LEVEL: 'info' }));
    await Promise.all(workers.map((w) => w.waitForLog((l) => l.msg === 'worker started', 'worker started')));
    const victim = workers[0] as (typeof workers)[number];
    await waitFor('a few hundred jobs done', () => readLedger(s.ledger).filter((e) => e.event === 'end').length >= 300, {
      timeoutMs: 60_000,
    });
    victim.kill('SIGKILL');
    await victim.exited;
    const killedAt = Date.now();

    const done = (l: LedgerEntry[]) => new Set(l.filter((e) => e.event === 'end').map((e) => `${e.queue}/${e.userId}`));
    await waitFor('every user through sync and write-back', () => done(readLedger(s.ledger)).size === 1000, { timeoutMs: 90_000 });
    const ledger = readLedger(s.ledger);

    // Intervals per run: from its start to its end, or to the kill for a run on the killed worker.
    const runs = new Map<string, { user: string; start: number; end: number }>();
    for (const e of ledger) {
      const key = `${e.pid}/${e.jobId}/${e.attempt}`;
      if (e.event === 'start')
        runs.set(key, { user: e.userId, start: e.t, end: e.pid === victim.pid ? killedAt : Number.POSITIVE_INFINITY });
      else {
        const run = runs.get(key);
        if (run) run.end = e.t;
      }
    }
    const byUser = new Map<string, Array<{ start: number; end: number }>>();
    for (const r of runs.values()) byUser.set(r.user, [...(byUser.get(r.user) ?? []), r]);
    let overlaps = 0;
    for (const list of byUser.values()) {
      list.sort((a, b) => a.start - b.start);
      for (let i = 1; i < list.length; i++) if ((list[i] as { start: number }).start < (list[i - 1] as { end: number }).end) overlaps++;
    }
    expect(overlaps).toBe(0);
    // The users the killed worker held got their next run within the job lock plus a stall check.
    const held = [...runs.entries()].filter(([k, r]) => k.startsWith(`${victim.pid}/`) && r.end === killedAt).map(([, r]) => r.user);
    for (const user of new Set(held)) {
      const next = ledger.find((e) => e.event === 'start' && e.userId === user && e.t > killedAt);
      expect(next, `user ${user} ran again`).toBeDefined();
      expect((next as LedgerEntry).t - killedAt, `user ${user} waited`).toBeLessThan(2000 + 1000 + 2500);
    }
  });
});
