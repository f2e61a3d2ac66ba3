import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { SCHEDULE_QUEUE } from '../../src/jobs/registry.js';
import { tickHistory } from '../../src/schedules/tick-record.js';
import { runCli } from '../helpers/spawn-cli.js';
import { waitFor } from '../helpers/wait-for.js';
import { range, report, Scene } from './scene.js';

const scenes: Scene[] = [];
afterEach(async () => {
  for (const s of scenes.splice(0)) {
    s.redis?.resume();
    await s.dispose();
  }
});
const scene = async (env: Record<string, string> = {}, opts: { appendonly?: boolean } = {}) => {
  const s = await new Scene(env).start(opts);
  scenes.push(s);
  return s;
};
const schedulers = async (s: Scene) => {
  const q = new Queue(SCHEDULE_QUEUE, { connection: s.conn, prefix: s.prefix });
  const n = await q.getJobSchedulersCount();
  await q.close();
  return n;
};
const ALL_SCHEDULES = {
  SPOTTER_JOBS_SYNC_ENABLED: 'true',
  SPOTTER_SYNC_INTERVAL: '2s',
  SPOTTER_METADATA_ENABLED: 'true',
  SPOTTER_JOBS_WRITEBACK_ENABLED: 'true',
};

/** Jobs a worker held in Redis' view at `at` (epoch ms): an `active` event before it, and no later end. */
async function heldAt(conn: Redis, eventsKey: string, at: number): Promise<Set<string>> {
  const held = new Set<string>();
  for (const [id, fields] of await conn.xrange(eventsKey, '-', String(at))) {
    if (Number(id.split('-')[0]) >= at) continue;
    const f = Object.fromEntries(fields.flatMap((v, i, a) => (i % 2 ? [] : [[v, a[i + 1]]]))) as Record<string, string>;
    if (!f.jobId) continue;
    if (f.event === 'active') held.add(f.jobId);
    else if (['completed', 'failed', 'delayed', 'waiting', 'stalled'].includes(f.event ?? '')) held.delete(f.jobId);
  }
  return held;
}

describe('Redis', () => {
  it('SIGKILL redis-server (AOF everysec) and restart it on the same data', async () => {
    const s = await scene({ ...ALL_SCHEDULES, FIXTURE_USERS: '20', FIXTURE_WORK_MS: '20', SPOTTER_JOBS_SYNC_CONCURRENCY: '5' });
    const producer = s.spawn(['producer']);
    const worker = await s.worker();
    await producer.waitForLog((l) => l.msg === 'tick sync finished', 'first tick');
    const ackedAt = new Map<string, number>();
    let killedAt = 0;
    const adding = (async () => {
      for (let b = 0; b < 30 && !killedAt; b++) {
        const ids = await s.add(range(`a${b}x`, 20)).catch(() => [] as string[]);
        for (const id of ids) ackedAt.set(id, Date.now());
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    await waitFor('some added', () => ackedAt.size >= 200);
    await s.redis.stop('SIGKILL');
    killedAt = Date.now();
    await adding;
    await s.startRedis(true);
    const intact = await schedulers(s);
    const restartedAt = Date.now();
    const recoveryMs = await s.recoveredAfter(restartedAt);
    const ids = [...ackedAt.keys()];
    // Jobs whose add was acknowledged in the last second before the kill may be missing from the AOF.
    const window = ids.filter((id) => (ackedAt.get(id) as number) > killedAt - 1000);
    await s.settled(
      ids.filter((id) => !window.includes(id)),
      60_000,
    );
    await new Promise((r) => setTimeout(r, 2000));
    const t = await s.tally(ids);
    const ticksAfter = (await tickHistory(s.conn, s.prefix, 'sync')).filter((x) => x.startedAt > restartedAt).length;
    const passed = intact === 3 && t.lost <= window.length && worker.child.exitCode === null && producer.child.exitCode === null;
    report({
      fault: 'SIGKILL redis-server (AOF everysec) and restart it on the same data',
      jobs: ids.length,
      ...t,
      recoveryMs,
      criterion: `schedules intact (3); lost ≤ ${window.length} acknowledged in the last second (target 0); no restart of producer or workers`,
      passed,
      note: `schedulers after restart: ${intact}; ticks since: ${ticksAfter}`,
    });
    expect(intact).toBe(3);
    expect(t.lost).toBeLessThanOrEqual(window.length);
    await waitFor(
      'the producer ticks again',
      async () => (await tickHistory(s.conn, s.prefix, 'sync')).some((x) => x.startedAt > restartedAt),
      { timeoutMs: 20_000 },
    );
    expect(worker.child.exitCode).toBeNull();
    expect(producer.child.exitCode).toBeNull();
  });

  it('Redis restarted empty: schedules re-created, the next tick reaches every user', async () => {
    const s = await scene({ ...ALL_SCHEDULES, FIXTURE_USERS: '30' }, { appendonly: false });
    const producer = s.spawn(['producer']);
    await s.worker();
    await producer.waitForLog((l) => l.msg === 'tick sync finished', 'first tick');
    await s.redis.stop('SIGKILL');
    await s.startRedis(false);
    const restartedAt = Date.now();
    await waitFor('schedules re-created', async () => (await schedulers(s)) === 3, { timeoutMs: 20_000 });
    const tick = await waitFor(
      'a full tick after the restart',
      async () => (await tickHistory(s.conn, s.prefix, 'sync')).find((x) => x.startedAt > restartedAt),
      {
        timeoutMs: 20_000,
      },
    );
    await waitFor(
      'every user synced after the restart',
      () =>
        new Set(
          s
            .entries()
            .filter((e) => e.event === 'end' && e.t > restartedAt)
            .map((e) => e.userId),
        ).size === 30,
      {
        timeoutMs: 20_000,
      },
    );
    const recoveryMs = await s.recoveredAfter(restartedAt);
    const passed = tick.users === 30;
    report({
      fault: 'Redis restarted empty (no persistence)',
      jobs: 30,
      lost: 0,
      duplicates: 0,
      recoveryMs,
      criterion: 'schedules re-created; the next tick fans out to every user',
      passed,
      note: `tick after restart: users=${tick.users} added=${tick.added}`,
    });
    expect(tick.users).toBe(30);
  });

  it('Redis stopped 30 s, then back: workers consume again without restart', async () => {
    const s = await scene();
    const w = await s.worker();
    const before = await s.add(['before']);
    await s.settled(before);
    await s.redis.stop('SIGTERM');
    await new Promise((r) => setTimeout(r, 30_000));
    await s.startRedis(true);
    const restartedAt = Date.now();
    const after = await s.add(range('after', 10));
    await s.settled(after, 60_000);
    const recoveryMs = await s.recoveredAfter(restartedAt);
    const t = await s.tally([...before, ...after]);
    const passed = t.lost === 0 && w.child.exitCode === null;
    report({
      fault: 'Redis stopped 30 s, then back',
      jobs: 11,
      ...t,
      recoveryMs,
      criterion: 'workers consume again without restart; 0 lost',
      passed,
    });
    expect(w.child.exitCode).toBeNull();
    expect(t.lost).toBe(0);
  });

  it.each([
    ['shorter than the lock', 1000],
    ['longer than the lock', 5000],
  ])('Redis paused (SIGSTOP/SIGCONT) %s', async (label, pauseMs) => {
    const s = await scene({ FIXTURE_WORK_MS: '300', SPOTTER_JOBS_SYNC_CONCURRENCY: '5' });
    const ids = await s.add(range('p', 60));
    await s.worker();
    await s.worker();
    await waitFor('jobs running', () => s.entries().filter((e) => e.event === 'end').length >= 5);
    // Held by a worker in Redis's view: a job whose handler returned but whose completion has not
    // reached Redis yet is still in flight, and may run again.
    const activeAtPause = new Set(await s.conn.lrange(`${s.prefix}:sync:active`, 0, -1));
    s.redis.pause();
    const pausedAt = Date.now();
    await new Promise((r) => setTimeout(r, pauseMs));
    s.redis.resume();
    const resumedAt = Date.now();
    await s.settled(ids, 60_000);
    const recoveryMs = await s.recoveredAfter(resumedAt);
    // In flight during the pause: a first run that started before Redis came back and had not
    // finished before it stopped answering. Only those can run twice.
    const firstRun = new Map<string, { start: number; end?: number }>();
    for (const e of s.entries()) {
      const r = firstRun.get(e.jobId);
      if (e.event === 'start' && !r) firstRun.set(e.jobId, { start: e.t });
      else if (e.event !== 'start' && r && r.end === undefined) r.end = e.t;
    }
    for (const [id, r] of firstRun) if (r.start < resumedAt && (r.end === undefined || r.end > pausedAt)) activeAtPause.add(id);
    // And a job moved to active after the snapshot above but before the pause, whose handler could
    // only start once Redis was back: BullMQ's own events (ids in Redis' ms) say it was held then.
    for (const id of await heldAt(s.conn, `${s.prefix}:sync:events`, pausedAt)) activeAtPause.add(id);
    const inFlight = activeAtPause.size;
    const t = await s.tally(ids);
    const short = pauseMs < 2000;
    const passed = t.lost === 0 && (short ? t.duplicates === 0 : t.duplicates <= inFlight);
    // On a failure, which jobs broke the bound: run more than twice, or run again but not counted.
    const starts = new Map<string, number>();
    for (const e of s.entries()) if (e.event === 'start') starts.set(e.jobId, (starts.get(e.jobId) ?? 0) + 1);
    const over = [...starts].filter(([id, n]) => n > 2 || (n > 1 && !activeAtPause.has(id))).map(([id, n]) => `${id}×${n}`);
    report({
      fault: `Redis paused ${pauseMs / 1000} s (${label}, lock 2 s)`,
      jobs: ids.length,
      ...t,
      recoveryMs,
      criterion: short ? '0 duplicates, 0 lost' : `duplicates ≤ ${inFlight} in flight, 0 lost`,
      passed,
      ...(passed ? {} : { note: `beyond the bound: ${over.join(', ') || 'none'}` }),
    });
    expect(t.lost).toBe(0);
    if (short) expect(t.duplicates).toBe(0);
    else expect(t.duplicates).toBeLessThanOrEqual(inFlight);
  });
});

describe('producers', () => {
  it('SIGKILL the producer mid 10,000-user fan-out, then 5 restarts in a row', async () => {
    // Sync enabled but due in half an hour, so only the manual tick below fans out.
    const s = await scene({
      ...ALL_SCHEDULES,
      SPOTTER_SYNC_INTERVAL: '1h',
      SPOTTER_JOBS_SYNC_OFFSET: '30m',
      FIXTURE_USERS: '10000',
      FIXTURE_PAGE_DELAY_MS: '100',
      SPOTTER_JOBS_FANOUT_PAGE: '500',
      // No worker runs: every job at once (the windowed tick has its own row, producers.fault.ts).
      SPOTTER_JOBS_FANOUT_WINDOW: '0',
    });
    const p1 = s.spawn(['producer']);
    await p1.waitForLog((l) => l.msg === 'producer started', 'producer started');
    const trig = await runCli(['trigger', 'sync', '--json'], s.env());
    const tickId = JSON.parse(trig.stdout).jobId as string;
    const wait = async () => s.conn.llen(`${s.prefix}:sync:wait`);
    await waitFor('fan-out under way', async () => (await wait()) >= 2000, { intervalMs: 10 });
    p1.kill('SIGKILL');
    await p1.exited;
    const partial = await wait();
    const t0 = Date.now();
    for (let i = 0; i < 5; i++) {
      const p = s.spawn(['producer']);
      await p.waitForLog((l) => l.msg === 'producer started', 'producer started');
      if (i < 4) {
        p.kill('SIGKILL');
        await p.exited;
      }
    }
    const restartsTook = Date.now() - t0;
    await waitFor(
      'tick redone',
      async () => (await tickHistory(s.conn, s.prefix, 'sync')).some((x) => x.tickId === tickId && x.result === 'ok'),
      { timeoutMs: 60_000 },
    );
    const jobs = await wait();
    const n = await schedulers(s);
    const passed = jobs === 10_000 && n === 3;
    report({
      fault: 'producer SIGKILL mid 10,000-user fan-out; then 5 producer restarts in a row',
      jobs,
      lost: 10_000 - Math.min(jobs, 10_000),
      duplicates: Math.max(0, jobs - 10_000),
      criterion: 'exactly 10,000 jobs for that tick; exactly 3 schedulers',
      passed,
      note: `killed at ${partial} jobs; 5 restarts took ${(restartsTook / 1000).toFixed(1)} s; schedulers=${n}`,
    });
    expect(jobs).toBe(10_000);
    expect(n).toBe(3);
  });
});
