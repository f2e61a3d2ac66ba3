/** A schedule's first run: at a fixed slot, or at boot plus the kind's delay, kept across producer restarts. */
import { describe, expect, it } from 'vitest';
import { startProducer } from '../src/producers/main.js';
import { tickHistory } from '../src/schedules/tick-record.js';
import { reconcileAsProducer } from './helpers/harness.js';
import { useHarnesses } from './helpers/in-process.js';
import { newPrefix } from './helpers/redis.js';
import { runCli } from './helpers/spawn-cli.js';
import { waitFor } from './helpers/wait-for.js';

const { h } = useHarnesses();

describe('first run: a fixed slot, or at boot plus the delay', () => {
  it('places a boot schedule its offset after creation, keeps it across restarts, and refuses it for cron', async () => {
    const before = Date.now();
    const x = await h({ SPOTTER_JOBS_ENRICHMENT_FIRST_RUN: 'boot', SPOTTER_JOBS_WRITEBACK_FIRST_RUN: 'slot' });
    await reconcileAsProducer(x);
    const e = await x.queues.schedules().getJobScheduler('enrichment');
    expect(e?.next).toBeGreaterThanOrEqual(before + 30_000);
    expect(e?.next).toBeLessThanOrEqual(Date.now() + 30_000);
    // The slot mode, as before: one minute into the hour.
    expect(((await x.queues.schedules().getJobScheduler('write-back'))?.next as number) % 3_600_000).toBe(60_000);
    // A producer restart leaves the cadence where it is.
    const again = await reconcileAsProducer(x);
    expect(again.unchanged).toContain('enrichment');
    expect((await x.queues.schedules().getJobScheduler('enrichment'))?.next).toBe(e?.next);
    const bad = await runCli(['status'], { SPOTTER_METADATA_INTERVAL: '0 * * * *', SPOTTER_JOBS_ENRICHMENT_FIRST_RUN: 'boot' });
    expect(bad.code).toBe(78);
    expect(bad.stderr).toMatch(/SPOTTER_JOBS_ENRICHMENT_FIRST_RUN="boot".*interval schedules/);
  });

  it('gives a boot schedule whose interval changed the phase of its new start, which missed runs align to', async () => {
    const prefix = newPrefix();
    const env = { SPOTTER_JOBS_ENRICHMENT_FIRST_RUN: 'boot', SPOTTER_JOBS_ENRICHMENT_OFFSET: '7s' };
    const a = await h(env, { prefix });
    await reconcileAsProducer(a);
    const hourly = await a.queues.schedules().getJobScheduler('enrichment');
    expect(Number(hourly?.offset)).toBe((hourly?.next as number) % 3_600_000);
    const b = await h({ ...env, SPOTTER_METADATA_INTERVAL: '13m' }, { prefix });
    expect((await reconcileAsProducer(b)).updated).toContain('enrichment');
    const every13 = await b.queues.schedules().getJobScheduler('enrichment');
    expect(every13?.every).toBe(13 * 60_000);
    // BullMQ aligns a run taken late to the stored offset: it must be the new start's phase, not the old one.
    expect(Number(every13?.offset)).toBe((every13?.next as number) % (13 * 60_000));
  });

  it('ticks a boot schedule with no offset as soon as it is created, then every interval, and not again on restart', async () => {
    const prefix = newPrefix();
    const env = {
      SPOTTER_JOBS_DEMO_USERS: '3',
      SPOTTER_JOBS_ENRICHMENT_FIRST_RUN: 'boot',
      SPOTTER_JOBS_ENRICHMENT_OFFSET: '0s',
      SPOTTER_JOBS_SYNC_ENABLED: 'false',
      SPOTTER_JOBS_WRITEBACK_ENABLED: 'false',
    };
    const a = await h(env, { prefix });
    await startProducer(a, { retention: false });
    // Hourly, yet the first tick comes at once, not an hour later.
    const [first] = await waitFor(
      'the first enrichment tick',
      async () => {
        const ticks = await tickHistory(a.conn, prefix, 'enrichment');
        return ticks.length > 0 ? ticks : undefined;
      },
      { timeoutMs: 10_000 },
    );
    const sched = () => a.queues.schedules().getJobScheduler('enrichment');
    await waitFor('the next tick scheduled', async () => (await sched())?.next !== first?.scheduledFor);
    expect((await sched())?.next).toBe((first?.scheduledFor as number) + 3_600_000);
    await a.lifecycle.shutdown();
    // A restart finds the scheduler as it was: no second tick now, the next one still an hour after the first.
    const b = await h(env, { prefix });
    await startProducer(b, { retention: false });
    expect((await reconcileAsProducer(b)).unchanged).toContain('enrichment');
    expect((await b.queues.schedules().getJobScheduler('enrichment'))?.next).toBe((first?.scheduledFor as number) + 3_600_000);
    expect(await b.queues.schedules().getJobCounts('waiting', 'active', 'delayed')).toMatchObject({ waiting: 0, active: 0 });
    expect(await tickHistory(b.conn, prefix, 'enrichment')).toHaveLength(1);
  });
});
