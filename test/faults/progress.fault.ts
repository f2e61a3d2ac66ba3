import { afterEach, describe, expect, it } from 'vitest';
import { SCHEDULE_QUEUE } from '../../src/jobs/registry.js';
import { tickHistory } from '../../src/schedules/tick-record.js';
import { waitFor } from '../helpers/wait-for.js';
import { report, Scene } from './scene.js';

const scenes: Scene[] = [];
afterEach(async () => {
  for (const s of scenes.splice(0)) await s.dispose();
});

const USERS = 200;
const TICKS = 12;

describe('every user gets their turn', () => {
  it('a windowed tick with workers slower than the interval: 200 users, window 20, 1 s interval', async () => {
    // 4 slots × 50 ms: 80 jobs a second, so a round of 200 users takes 2.5 intervals and every tick
    // is superseded long before the end of the listing.
    const s = await new Scene({
      FIXTURE_USERS: String(USERS),
      FIXTURE_WORK_MS: '50',
      SPOTTER_JOBS_SYNC_ENABLED: 'true',
      SPOTTER_SYNC_INTERVAL: '1s',
      SPOTTER_JOBS_SYNC_CONCURRENCY: '4',
      SPOTTER_JOBS_FANOUT_WINDOW: '20',
    }).start();
    scenes.push(s);
    await s.worker();
    const producer = s.spawn(['producer']);
    await producer.waitForLog((l) => l.msg === 'producer started', 'producer started');
    await waitFor(`${TICKS} ticks finished`, async () => (await tickHistory(s.conn, s.prefix, 'sync')).length >= TICKS, {
      timeoutMs: 60_000,
      intervalMs: 200,
    });
    // No tick hangs: every one that ended finished or was superseded, and soon at most the one paging
    // now is active. A tick it just superseded lets go within half a second, so the count is read
    // until it comes down (hung ticks would pile up instead), for a few seconds at most.
    const history = await tickHistory(s.conn, s.prefix, 'sync');
    const activeKey = `${s.prefix}:${SCHEDULE_QUEUE}:active`;
    const ticks = await waitFor(
      'at most the paging tick active',
      async () => {
        const n = await s.conn.llen(activeKey);
        return n <= 1 ? { n } : undefined;
      },
      { timeoutMs: 5_000 },
    ).then(
      (r) => r.n,
      () => s.conn.llen(activeKey),
    );
    await producer.stop();

    const starts = s.entries().filter((e) => e.event === 'start' && e.queue === 'sync');
    const first = new Map<string, number>();
    const third = new Map<string, number>();
    const count = new Map<string, number>();
    starts.forEach((e, i) => {
      const n = (count.get(e.userId) ?? 0) + 1;
      count.set(e.userId, n);
      if (n === 1) first.set(e.userId, i);
      if (n === 3) third.set(e.userId, i);
    });
    const users = Array.from({ length: USERS }, (_, i) => `u${i + 1}`);
    const never = users.filter((u) => !first.has(u));
    const lastFirst = Math.max(...first.values());
    const firstThird = third.size > 0 ? Math.min(...third.values()) : Number.POSITIVE_INFINITY;
    const stuck = history.filter((t) => t.result !== 'ok' && t.result !== 'superseded');
    const t = await s.tally(new Set(starts.map((e) => e.jobId)));
    const runs = [...count.values()];
    const passed = never.length === 0 && firstThird > lastFirst && stuck.length === 0 && ticks <= 1 && t.duplicates === 0;
    report({
      fault: `windowed tick with workers slower than the interval (${USERS} users, window 20, 1 s interval, 4 × 50 ms workers)`,
      jobs: starts.length,
      lost: never.length,
      duplicates: t.duplicates,
      criterion: `every user runs once before any user runs three times, over ≥ ${TICKS} intervals; no tick hangs (each finished or superseded, ≤ 1 active)`,
      passed,
      note:
        `${history.length} ticks (${history.filter((x) => x.result === 'superseded').length} superseded); runs per user ${Math.min(...runs)}–${Math.max(...runs)}; ` +
        `last first run #${lastFirst + 1}, first third run #${Number.isFinite(firstThird) ? firstThird + 1 : '–'}; lost = users never run`,
    });
    expect(never).toEqual([]);
    expect(firstThird).toBeGreaterThan(lastFirst);
    expect(stuck).toEqual([]);
    expect(ticks).toBeLessThanOrEqual(1);
    expect(t.duplicates).toBe(0);
  }, 120_000);
});
