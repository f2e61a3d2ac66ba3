import { describe, expect, it } from 'vitest';
import { Queues } from '../src/jobs/queues.js';
import { tickOf, tickToken } from '../src/jobs/registry.js';
import { tickHistory } from '../src/schedules/tick-record.js';
import { createLogger } from '../src/telemetry/logger.js';
import { readLedger } from './helpers/ledger.js';
import { useProcessScenes } from './helpers/process-scene.js';
import { testConfig } from './helpers/redis.js';
import { runCli } from './helpers/spawn-cli.js';
import { waitFor } from './helpers/wait-for.js';

const baseScene = useProcessScenes();
const cleanups = { push: baseScene.onCleanup };
/** Only the sync schedule, hourly, unless a test says otherwise. */
const scene = (extra: Record<string, string> = {}) =>
  baseScene({
    SPOTTER_METADATA_ENABLED: 'false',
    SPOTTER_JOBS_WRITEBACK_ENABLED: 'false',
    SPOTTER_SYNC_INTERVAL: '1h',
    ...extra,
  });

describe('producers and workers as separate processes', () => {
  it('two producers and two workers: exactly one job per user per tick, each worker within its cap', async () => {
    const s = scene({ FIXTURE_USERS: '60', FIXTURE_WORK_MS: '20', SPOTTER_JOBS_SYNC_CONCURRENCY: '3', SPOTTER_SYNC_INTERVAL: '2s' });
    const producers = [s.start(['producer']), s.start(['producer'])];
    const workers = [s.start(['worker', '--queues', 'sync']), s.start(['worker', '--queues', 'sync'])];
    await Promise.all([...producers, ...workers].map((p) => p.waitForLog((l) => /(producer|worker) started/.test(l.msg), 'started')));
    await waitFor('three ticks', async () => (await tickHistory(s.conn, s.prefix, 'sync')).length >= 3, { timeoutMs: 30_000 });
    const ticks = (await tickHistory(s.conn, s.prefix, 'sync')).slice(-3);
    await waitFor(
      'every job of the three ticks done',
      () => {
        const ends = readLedger(s.ledger).filter((e) => e.event === 'end');
        return ticks.every((t) => ends.filter((e) => e.jobId.startsWith(`${tickToken(t.tickId)}__`)).length === 60);
      },
      { timeoutMs: 30_000 },
    );
    const ledger = readLedger(s.ledger);
    for (const t of ticks) {
      expect(t).toMatchObject({ users: 60, errors: 0 });
      expect(t.added + t.coalesced).toBe(60);
      const runs = ledger.filter((e) => e.event === 'start' && e.jobId.startsWith(`${tickToken(t.tickId)}__`));
      expect(new Set(runs.map((r) => r.userId)).size).toBe(60);
      expect(runs.length).toBe(60);
    }
    const starts = ledger.filter((e) => e.event === 'start');
    const pids = new Set(starts.map((e) => e.pid));
    expect(pids.size).toBe(2);
    for (const pid of pids) {
      const max = Math.max(...starts.filter((e) => e.pid === pid).map((e) => e.inflight ?? 0));
      expect(max).toBeLessThanOrEqual(3);
    }
    expect(Math.max(...starts.map((e) => e.inflight ?? 0))).toBe(3);
  });

  it('five producers started at once leave exactly three schedulers', async () => {
    const s = scene({ SPOTTER_METADATA_ENABLED: 'true', SPOTTER_JOBS_WRITEBACK_ENABLED: 'true' });
    const ps = Array.from({ length: 5 }, () => s.start(['producer']));
    await Promise.all(ps.map((p) => p.waitForLog((l) => l.msg === 'producer started', 'producer started')));
    const queues = new Queues(s.conn, testConfig(s.prefix), createLogger({ level: 'silent' }));
    cleanups.push(() => queues.close());
    expect(await queues.schedules().getJobSchedulersCount()).toBe(3);
    const reconciled = ps.flatMap((p) => p.logs().filter((l) => l.msg === 'schedules reconciled'));
    expect(reconciled.flatMap((l) => l.created as string[]).sort()).toEqual(['enrichment', 'sync', 'write-back']);
  });

  it('kill -9 the producer in the middle of a 10,000-user fan-out: after a restart that tick has exactly 10,000 jobs', async () => {
    const s = scene({
      FIXTURE_USERS: '10000',
      FIXTURE_PAGE_DELAY_MS: '150',
      SPOTTER_JOBS_FANOUT_PAGE: '500',
      SPOTTER_JOBS_LOCK_DURATION: '2s',
      SPOTTER_JOBS_STALLED_INTERVAL: '1s',
      // Only the manual tick below fans out, so every waiting job belongs to it.
      SPOTTER_JOBS_SYNC_ENABLED: 'false',
      // No worker runs: all 10,000 jobs at once (windowed ticks have their own test).
      SPOTTER_JOBS_FANOUT_WINDOW: '0',
    });
    const p1 = s.start(['producer']);
    await p1.waitForLog((l) => l.msg === 'producer started', 'producer started');
    const trig = await runCli(['trigger', 'sync', '--json'], s.env);
    expect(trig.code).toBe(0);
    const tickId = JSON.parse(trig.stdout).jobId as string;
    const queues = new Queues(s.conn, testConfig(s.prefix), createLogger({ level: 'silent' }));
    cleanups.push(() => queues.close());
    const sync = queues.get('sync');
    await waitFor('fan-out half-way', async () => (await sync.getWaitingCount()) >= 2000, { intervalMs: 10 });
    p1.kill('SIGKILL');
    await p1.exited;
    const partial = await sync.getWaitingCount();
    expect(partial).toBeGreaterThan(0);
    expect(partial).toBeLessThan(10_000);
    const p2 = s.start(['producer']);
    const done = await p2.waitForLog((l) => l.msg === 'tick sync finished', 'tick redone', 45_000);
    expect(done.users).toBe(10_000);
    expect(await sync.getWaitingCount()).toBe(10_000);
    const ids = await sync.getWaiting(0, -1);
    expect(new Set(ids.map((j) => j.data.userId)).size).toBe(10_000);
    expect(new Set(ids.map((j) => tickOf('sync', String(j.id), j.data)))).toEqual(new Set([tickId]));
    expect(done.tick).toBe(tickId);
  });
});
