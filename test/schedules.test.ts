import { afterEach, describe, expect, it } from 'vitest';
import { builtinCatalog } from '../src/config/catalog-source.js';
import { loadConfig } from '../src/config/load.js';
import { startProducer } from '../src/producers/main.js';
import { tickHistory } from '../src/schedules/tick-record.js';
import { type Harness, harness, reconcileAsProducer } from './helpers/harness.js';
import { deletePrefix, newPrefix } from './helpers/redis.js';
import { waitFor } from './helpers/wait-for.js';

const open: Harness[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((h) => h.dispose()));
});

async function h(env: Record<string, string> = {}, prefix?: string): Promise<Harness> {
  const x = await harness({ SPOTTER_JOBS_DEMO_USERS: '3', ...env }, { prefix });
  open.push(x);
  return x;
}

const reconcile = (x: Harness) => reconcileAsProducer(x);

async function schedulers(x: Harness) {
  const list = await x.queues.schedules().getJobSchedulers(0, -1);
  return Object.fromEntries(list.map((s) => [s.key, s]));
}

describe('schedule reconciliation', () => {
  it('creates, updates and deletes schedulers for whatever the catalog says', async () => {
    const catalog = { ...builtinCatalog(), cleanup: { decl: { scope: 'global' as const, schedule: '0 0 * * *' }, source: 'test' } };
    const x = await harness({ SPOTTER_JOBS_TZ: 'Europe/Berlin' }, { catalog });
    open.push(x);
    expect((await reconcile(x)).created.sort()).toEqual(['cleanup', 'enrichment', 'sync', 'write-back']);
    expect((await schedulers(x)).cleanup).toMatchObject({ pattern: '0 0 * * *', tz: 'Europe/Berlin' });
    // The kind's schedule overridden by its variable: updated in place.
    const moved = loadConfig(
      {
        SPOTTER_JOBS_PREFIX: x.prefix,
        REDIS_URL: x.config.redisUrl,
        SPOTTER_JOBS_CLEANUP_SCHEDULE: '0 3 * * *',
        SPOTTER_JOBS_TZ: 'Europe/Berlin',
      },
      catalog,
    );
    expect((await reconcileAsProducer(x, moved)).updated).toEqual(['cleanup']);
    expect((await schedulers(x)).cleanup?.pattern).toBe('0 3 * * *');
    // The kind gone from the catalog: its scheduler is deleted.
    const without = loadConfig({ SPOTTER_JOBS_PREFIX: x.prefix, REDIS_URL: x.config.redisUrl });
    expect((await reconcileAsProducer(x, without)).removed).toEqual(['cleanup']);
    expect(Object.keys(await schedulers(x)).sort()).toEqual(['enrichment', 'sync', 'write-back']);
  });

  it('creates the three schedules, staggered by their offsets', async () => {
    const x = await h();
    const r = await reconcile(x);
    expect(r.created.sort()).toEqual(['enrichment', 'sync', 'write-back']);
    const s = await schedulers(x);
    expect(s.sync?.every).toBe(300_000);
    expect(s.enrichment?.every).toBe(3_600_000);
    // Offsets place enrichment 30 s and write-back 1 min into their hour, so the three never tick together.
    expect((s.enrichment?.next as number) % 3_600_000).toBe(30_000);
    expect((s['write-back']?.next as number) % 3_600_000).toBe(60_000);
    expect(await x.queues.schedules().getDelayedCount()).toBeGreaterThanOrEqual(2);
  });

  it('leaves unchanged schedules alone on restart: same next run, no extra tick job', async () => {
    const x = await h();
    await reconcile(x);
    const before = await schedulers(x);
    const jobsBefore = await x.queues.schedules().getJobCounts('delayed', 'waiting');
    const again = await reconcile(x);
    expect(again.unchanged.sort()).toEqual(['enrichment', 'sync', 'write-back']);
    expect(again.created).toEqual([]);
    const after = await schedulers(x);
    for (const k of Object.keys(before)) expect(after[k]?.next).toBe(before[k]?.next);
    expect(await x.queues.schedules().getJobCounts('delayed', 'waiting')).toEqual(jobsBefore);
  });

  it('five producers reconciling at once leave exactly one scheduler per schedule', async () => {
    const prefix = newPrefix();
    const xs = await Promise.all(Array.from({ length: 5 }, () => h({}, prefix)));
    const results = await Promise.all(xs.map((x) => reconcile(x)));
    const created = results.flatMap((r) => r.created);
    expect(created.sort()).toEqual(['enrichment', 'sync', 'write-back']);
    const x = xs[0] as Harness;
    expect(await x.queues.schedules().getJobSchedulersCount()).toBe(3);
    const counts = await x.queues.schedules().getJobCounts('delayed', 'waiting', 'active', 'completed');
    // One pending tick job per scheduler (sync's first may already be waiting), never more.
    expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(3);
  });

  it('applies a changed interval and deletes a disabled schedule', async () => {
    const prefix = newPrefix();
    const x = await h({}, prefix);
    await reconcile(x);
    const y = await h({ SPOTTER_SYNC_INTERVAL: '10m', SPOTTER_METADATA_ENABLED: 'false' }, prefix);
    const r = await reconcile(y);
    expect(r.updated).toEqual(['sync']);
    expect(r.removed).toEqual(['enrichment']);
    const s = await schedulers(y);
    expect(Object.keys(s).sort()).toEqual(['sync', 'write-back']);
    expect(s.sync?.every).toBe(600_000);
  });

  it('takes cron expressions with the configured time zone', async () => {
    const x = await h({ SPOTTER_METADATA_INTERVAL: '0 3 * * *', SPOTTER_JOBS_TZ: 'Europe/Berlin' });
    await reconcile(x);
    const s = await schedulers(x);
    expect(s.enrichment?.pattern).toBe('0 3 * * *');
    expect(s.enrichment?.tz).toBe('Europe/Berlin');
    const next = new Date(s.enrichment?.next as number);
    const berlinHour = Number(new Intl.DateTimeFormat('en-GB', { hour: '2-digit', hour12: false, timeZone: 'Europe/Berlin' }).format(next));
    expect(berlinHour).toBe(3);
  });

  it('re-creates the schedules when Redis comes back empty', async () => {
    const x = await h({ SPOTTER_JOBS_RETENTION_INTERVAL: '1h' });
    await startProducer(x, { retention: false });
    expect(await x.queues.schedules().getJobSchedulersCount()).toBe(3);
    await deletePrefix(x.conn, x.prefix);
    expect(await x.queues.schedules().getJobSchedulersCount()).toBe(0);
    await waitFor('schedules re-created', async () => (await x.queues.schedules().getJobSchedulersCount()) === 3, { timeoutMs: 15_000 });
  });

  it('ticks on cadence across a producer restart: no tick skipped, none doubled', async () => {
    const prefix = newPrefix();
    const env = {
      SPOTTER_JOBS_DEMO_USERS: '3',
      SPOTTER_SYNC_INTERVAL: '1s',
      SPOTTER_METADATA_ENABLED: 'false',
      SPOTTER_JOBS_WRITEBACK_ENABLED: 'false',
    };
    const a = await harness(env, { prefix });
    await startProducer(a, { retention: false });
    await waitFor('two ticks', async () => (await tickHistory(a.conn, prefix, 'sync')).length >= 2);
    await a.lifecycle.shutdown();
    const b = await h(env, prefix);
    await startProducer(b, { retention: false });
    await waitFor('five ticks', async () => (await tickHistory(b.conn, prefix, 'sync')).length >= 5, { timeoutMs: 15_000 });
    const ticks = (await tickHistory(b.conn, prefix, 'sync')).reverse();
    const ids = ticks.map((t) => t.tickId);
    expect(new Set(ids).size).toBe(ids.length);
    const gaps = ticks.slice(1).map((t, i) => t.scheduledFor - (ticks[i] as { scheduledFor: number }).scheduledFor);
    for (const g of gaps) expect(g).toBe(1000);
    for (const t of ticks) expect(t).toMatchObject({ result: 'ok', users: 3 });
  });
});
