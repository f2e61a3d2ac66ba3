/** Missed ticks: once, skip, within <duration>; with a producer stopped for several intervals. */
import { describe, expect, it } from 'vitest';
import { builtinCatalog } from '../src/config/catalog-source.js';
import type { ScheduleConfig } from '../src/config/kind-config.js';
import { loadConfig } from '../src/config/load.js';
import { catchUpVerdict } from '../src/schedules/catch-up.js';
import { tickHistory } from '../src/schedules/tick-record.js';
import { useProcessScenes } from './helpers/process-scene.js';
import { waitFor } from './helpers/wait-for.js';

const H = 3_600_000;
const schedule = (env: Record<string, string>) => loadConfig(env).kinds.enrichment?.schedule as ScheduleConfig;

describe('the catch-up policies', () => {
  const now = Date.UTC(2026, 11, 1, 12, 40);
  const due = Date.UTC(2026, 11, 1, 10, 0, 30); // hourly, 30 s into the hour; down from 10:00 to 12:40
  it('once (default) runs a missed tick, late', () => {
    expect(catchUpVerdict(schedule({}), 'UTC', due, now)).toEqual({ run: true });
  });
  it('skip drops a tick older than one interval, and keeps one that is only late', () => {
    const s = schedule({ SPOTTER_JOBS_ENRICHMENT_CATCH_UP: 'skip' });
    expect(catchUpVerdict(s, 'UTC', due, now)).toMatchObject({
      run: false,
      reason: expect.stringMatching(/missed by 2h39m30s, more than one interval \(1h\)/),
    });
    expect(catchUpVerdict(s, 'UTC', due, due + 20 * 60_000)).toEqual({ run: true });
  });
  it('within D runs when the most recent missed slot (12:00:30) is younger than D', () => {
    expect(catchUpVerdict(schedule({ SPOTTER_JOBS_ENRICHMENT_CATCH_UP: 'within 45m' }), 'UTC', due, now)).toEqual({ run: true });
    expect(catchUpVerdict(schedule({ SPOTTER_JOBS_ENRICHMENT_CATCH_UP: 'within 30m' }), 'UTC', due, now)).toMatchObject({
      run: false,
      reason: expect.stringMatching(/most recent slot passed 39m30s ago; catch-up: within 30m/),
    });
  });
  it('works on cron schedules too, in their time zone', () => {
    const s = schedule({ SPOTTER_METADATA_INTERVAL: '0 3 * * *', SPOTTER_JOBS_ENRICHMENT_CATCH_UP: 'within 6h' });
    const due3 = Date.UTC(2026, 11, 1, 2, 0); // 03:00 in Berlin
    expect(catchUpVerdict(s, 'Europe/Berlin', due3, due3 + 5 * H)).toEqual({ run: true });
    expect(catchUpVerdict(s, 'Europe/Berlin', due3, due3 + 7 * H).run).toBe(false);
    // Two days down: the most recent slot is this morning's, 1 h ago.
    expect(catchUpVerdict(s, 'Europe/Berlin', due3 - 24 * H, due3 + H)).toEqual({ run: true });
  });
  it('refuses a policy it does not know', () => {
    expect(() => loadConfig({ SPOTTER_JOBS_SYNC_CATCH_UP: 'sometimes' })).toThrow(/SPOTTER_JOBS_SYNC_CATCH_UP.*once, skip, or within/);
    expect(Object.keys(builtinCatalog())).toContain('sync');
  });
});

describe('a producer stopped for several intervals', () => {
  const scene = useProcessScenes();
  const FIXTURE = new URL('./fixtures/catalog.mjs', import.meta.url).pathname;
  const OFF = { SPOTTER_JOBS_SYNC_ENABLED: 'false', SPOTTER_METADATA_ENABLED: 'false', SPOTTER_JOBS_WRITEBACK_ENABLED: 'false' };

  it.each([
    ['once', 'ok'],
    ['skip', 'skipped'],
    ['within 30s', 'ok'],
  ])('catch-up %s: the late tick is %s', async (policy, expected) => {
    const s = scene({ SPOTTER_JOBS_HANDLERS: FIXTURE, ...OFF, FIXTURE_CLEANUP_SCHEDULE: '1s', SPOTTER_JOBS_CLEANUP_CATCH_UP: policy });
    const first = s.start(['producer']);
    await waitFor('two ticks', async () => (await tickHistory(s.conn, s.prefix, 'cleanup')).length >= 2, { timeoutMs: 20_000 });
    first.kill('SIGTERM');
    await first.exited;
    const stoppedAt = Date.now();
    // Stopped for several intervals.
    await waitFor('3.5 s without a producer', () => Date.now() - stoppedAt > 3500, { intervalMs: 100, timeoutMs: 10_000 });
    const before = (await tickHistory(s.conn, s.prefix, 'cleanup')).length;
    const restartedAt = Date.now();
    s.start(['producer']);
    await waitFor('the late tick and one after', async () => (await tickHistory(s.conn, s.prefix, 'cleanup')).length >= before + 2, {
      timeoutMs: 20_000,
    });
    const history = (await tickHistory(s.conn, s.prefix, 'cleanup')).reverse().slice(before);
    const late = history[0];
    expect((late?.startedAt as number) - (late?.scheduledFor as number)).toBeGreaterThan(2500);
    expect(late?.result).toBe(expected);
    // Whatever the policy, the schedule goes on: the tick after the late one is a slot after the restart,
    // not another missed one replayed.
    expect(history[1]).toMatchObject({ result: 'ok' });
    expect(history[1]?.scheduledFor).toBeGreaterThan(restartedAt);
  });
});
