/**
 * New kinds as a user adds them, in real processes: a module with a 4th (global) and 5th (item) kind
 * and no change under src/, three producers ticking it, and an item pipeline that survives a worker
 * killed with SIGKILL.
 */
import { describe, expect, it } from 'vitest';
import { readLedger } from './helpers/ledger.js';
import { useProcessScenes } from './helpers/process-scene.js';
import { runCli } from './helpers/spawn-cli.js';
import { waitFor } from './helpers/wait-for.js';

const CATALOG_FIXTURE = new URL('./fixtures/catalog.mjs', import.meta.url).pathname;
const PIPELINE_FIXTURE = new URL('./fixtures/pipeline.mjs', import.meta.url).pathname;
const SPOTTER_OFF = { SPOTTER_JOBS_SYNC_ENABLED: 'false', SPOTTER_METADATA_ENABLED: 'false', SPOTTER_JOBS_WRITEBACK_ENABLED: 'false' };

interface Entry {
  event: string;
  pid: number;
  t: number;
  kind: string;
  jobId: string;
  itemId?: string;
  scheduledFor?: number;
  parent?: { kind: string; jobId: string };
}
const entries = (path: string) => readLedger(path) as unknown as Entry[];

const scene = useProcessScenes();

describe('a module that adds a global and an item kind', () => {
  it('runs with no change under src/: one cleanup per tick with three producers, one tag per cleanup', async () => {
    const s = scene({ SPOTTER_JOBS_HANDLERS: CATALOG_FIXTURE, ...SPOTTER_OFF });
    const producers = [s.start(['producer']), s.start(['producer']), s.start(['producer'])];
    const worker = s.start(['worker']);
    await Promise.all(producers.map((p) => p.waitForLog((l) => l.msg === 'producer started', 'producer started')));
    await worker.waitForLog((l) => l.msg === 'worker started', 'worker started');
    await waitFor(
      'five cleanups and their tags',
      () => {
        const l = entries(s.ledger);
        return l.filter((e) => e.kind === 'cleanup').length >= 5 && l.filter((e) => e.kind === 'tag').length >= 5;
      },
      { timeoutMs: 30_000 },
    );

    const status = await runCli(['status', '--json'], s.env);
    expect(status.code, status.stderr).toBe(0);
    const st = JSON.parse(status.stdout) as {
      schedules: Array<{ name: string; scope: string; interval: string; lastRun: { result: string; added: number } | null }>;
    };
    expect(st.schedules.map((k) => [k.name, k.scope])).toEqual([
      ['sync', 'user'],
      ['enrichment', 'user'],
      ['write-back', 'user'],
      ['cleanup', 'global'],
      ['tag', 'item'],
    ]);
    const cleanupRow = st.schedules.find((k) => k.name === 'cleanup');
    expect(cleanupRow?.interval).toBe('1s');
    expect(cleanupRow?.lastRun).toMatchObject({ result: 'ok', added: 1 });

    for (const p of [...producers, worker]) p.kill('SIGTERM');
    await Promise.all([...producers, worker].map((p) => p.exited));
    const l = entries(s.ledger);
    const cleanups = l.filter((e) => e.kind === 'cleanup');
    const ticks = new Map<number, number>();
    for (const c of cleanups) ticks.set(c.scheduledFor as number, (ticks.get(c.scheduledFor as number) ?? 0) + 1);
    // Exactly once per tick, whichever of the three producers took it.
    expect(
      [...ticks.values()].every((n) => n === 1),
      JSON.stringify([...ticks]),
    ).toBe(true);
    const tags = l.filter((e) => e.kind === 'tag');
    expect(new Set(tags.map((t) => t.itemId)).size).toBe(tags.length);
    for (const t of tags) expect(cleanups.map((c) => c.jobId)).toContain(t.parent?.jobId);
  });

  it('takes an item from trigger, refusing data the schema does not allow', async () => {
    const s = scene({ SPOTTER_JOBS_HANDLERS: CATALOG_FIXTURE, ...SPOTTER_OFF, FIXTURE_CLEANUP_SCHEDULE: '1h' });
    const bad = await runCli(['trigger', 'tag', '--item', 'x1', '--data', '{"from":7}'], s.env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/data of item x1 does not match the schema: from:/);
    const wrong = await runCli(['trigger', 'tag', '--user', 'u1'], s.env);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/a user \(--user, userId in the API\) applies to user kinds only/);
    const ok = await runCli(['trigger', 'tag', '--item', 'x1', '--data', '{"from":"cli"}', '--json'], s.env);
    expect(ok.code, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ queue: 'tag', kind: 'item' });
    s.start(['worker', '--queues', 'tag']);
    const run = await waitFor('the item ran', () => entries(s.ledger).find((e) => e.kind === 'tag'));
    expect(run).toMatchObject({ itemId: 'x1', data: { from: 'cli' } });
  });
});

describe('an item pipeline: download -> index -> tag -> organize, per item', () => {
  it('takes 200 items through 4 steps each exactly once, overlapping, with a worker killed midway', async () => {
    const s = scene({
      SPOTTER_JOBS_HANDLERS: PIPELINE_FIXTURE,
      PIPELINE_ITEMS: '200',
      PIPELINE_DOWNLOAD_MS: '100',
      SPOTTER_JOBS_LOCK_DURATION: '2s',
      SPOTTER_JOBS_STALLED_INTERVAL: '1s',
      SPOTTER_JOBS_LOG_LEVEL: 'warn',
    });
    const a = s.start(['worker'], { SPOTTER_JOBS_LOG_LEVEL: 'info' });
    const b = s.start(['worker'], { SPOTTER_JOBS_LOG_LEVEL: 'info' });
    await Promise.all([a, b].map((w) => w.waitForLog((l) => l.msg === 'worker started', 'worker started')));
    const t = await runCli(['trigger', 'start'], s.env);
    expect(t.code, t.stderr).toBe(0);
    await waitFor(
      'a quarter of the downloads',
      () => entries(s.ledger).filter((e) => e.kind === 'download' && e.event === 'end').length >= 50,
    );
    a.kill('SIGKILL');
    await a.exited;
    const killedAt = Date.now();
    s.start(['worker']);

    const steps = ['download', 'index', 'tag', 'organize'];
    await waitFor(
      'every item through every step',
      async () => {
        const counts = await Promise.all(steps.map((q) => s.conn.zcard(`${s.prefix}:${q}:completed`)));
        return counts.every((c) => c === 200);
      },
      { timeoutMs: 60_000 },
    );
    for (const q of steps) {
      const ids = await s.conn.zrange(`${s.prefix}:${q}:completed`, 0, -1);
      expect(new Set(ids).size, `${q}: one completed job per item`).toBe(200);
      expect(await s.conn.llen(`${s.prefix}:${q}:wait`), `${q}: nothing left waiting`).toBe(0);
      expect(await s.conn.zcard(`${s.prefix}:${q}:failed`), `${q}: nothing failed`).toBe(0);
    }
    const l = entries(s.ledger);
    for (const step of steps) {
      const done = new Set(l.filter((e) => e.kind === step && e.event === 'end').map((e) => e.itemId));
      expect(done.size, `${step}: every item finished it`).toBe(200);
    }
    // At-least-once: only what the killed worker had in flight may have run twice (its concurrency sum is 10).
    const starts = new Map<string, number>();
    for (const e of l.filter((x) => x.event === 'start'))
      starts.set(`${e.kind}/${e.itemId}`, (starts.get(`${e.kind}/${e.itemId}`) ?? 0) + 1);
    const twice = [...starts.entries()].filter(([, n]) => n > 1);
    expect(twice.length).toBeLessThanOrEqual(10);
    for (const [key] of twice) {
      const first = l.find((e) => e.event === 'start' && `${e.kind}/${e.itemId}` === key);
      expect(first?.pid, `${key} ran twice: its first run was on the killed worker`).toBe(a.pid);
      expect(first?.t).toBeLessThanOrEqual(killedAt);
    }
    // Items flow on their own: some item reached its 3rd step before another finished its 1st.
    const firstTag = Math.min(...l.filter((e) => e.kind === 'tag' && e.event === 'start').map((e) => e.t));
    const lastDownload = Math.max(...l.filter((e) => e.kind === 'download' && e.event === 'end').map((e) => e.t));
    expect(firstTag).toBeLessThan(lastDownload);
  });
});

describe('the examples, run as the README runs them', () => {
  const example = (name: string) => new URL(`../examples/${name}.mjs`, import.meta.url).pathname;

  it("pipeline: the users with a few tracks have them organized while alice's library mostly still waits", async () => {
    const s = scene({ SPOTTER_JOBS_HANDLERS: example('pipeline') });
    s.start(['all']);
    const organized = async (user: string) =>
      (await s.conn.zrange(`${s.prefix}:organize:completed`, 0, -1)).filter((id) => id.includes(`__${user}-track-`));
    await waitFor(
      "bob's 3 and carol's 5 tracks organized",
      async () => (await organized('bob')).length === 3 && (await organized('carol')).length === 5,
      {
        timeoutMs: 60_000,
      },
    );
    // Fair admission: their downloads went between alice's 200, not after them.
    expect((await organized('alice')).length).toBeLessThan(100);
    const [first] = await organized('bob');
    const raw = await s.conn.hget(`${s.prefix}:organize:${first}`, 'returnvalue');
    expect(JSON.parse(raw as string).file).toMatch(/^\/music\/bob\/Track \d\.flac$/);
  });

  it("reminders: each user's own schedule is set by a handler, understood, and runs", async () => {
    const s = scene({ SPOTTER_JOBS_HANDLERS: example('reminders') });
    s.start(['all']);
    const list = async () => {
      const r = await runCli(['schedule', 'list', '--kind', 'remind', '--json'], s.env);
      return r.code === 0 ? (JSON.parse(r.stdout) as { schedules: Array<{ user: string; rule: string }> }).schedules : [];
    };
    const all = await waitFor('five reminders set', async () => ((await list()).length === 5 ? list() : undefined), { timeoutMs: 30_000 });
    expect(Object.fromEntries(all.map((x) => [x.user, x.rule]))).toEqual({
      ann: 'every 30s',
      bob: 'every 1m',
      cem: 'cron 30 7 * * 1-5',
      dee: 'FREQ=WEEKLY;INTERVAL=2;BYDAY=TU;BYHOUR=9;BYMINUTE=34;BYSECOND=0',
      eve: 'FREQ=MONTHLY;BYMONTHDAY=1;BYHOUR=0;BYMINUTE=0;BYSECOND=0',
    });
    // ann's first reminder, 30 s after her schedule was set.
    await waitFor('ann reminded', async () => (await s.conn.zcard(`${s.prefix}:remind:completed`)) >= 1 || undefined, {
      timeoutMs: 45_000,
    });
  }, 90_000);

  it('calendar: four global kinds on their calendars, and trigger runs one now', async () => {
    const s = scene({ SPOTTER_JOBS_HANDLERS: example('calendar'), SPOTTER_JOBS_TZ: 'Europe/Berlin' });
    const p = s.start(['all']);
    await p.waitForLog((l) => l.msg === 'worker started', 'worker started');
    const status = JSON.parse((await runCli(['status', '--json'], s.env)).stdout) as {
      schedules: Array<{ name: string; scope: string; interval: string; nextRun: number }>;
    };
    expect(status.schedules.map((k) => [k.name, k.scope, k.interval])).toEqual([
      ['credit-top-up', 'global', '0 0 1 * *'],
      ['stale-purchase-cleanup', 'global', '0 0 * * *'],
      ['weekly-report', 'global', '0 9 * * 1'],
      ['heartbeat', 'global', '30s'],
    ]);
    // Midnight on the 1st, Berlin time.
    const next = new Date(status.schedules[0]?.nextRun as number);
    const berlin = new Intl.DateTimeFormat('en-GB', {
      timeZone: 'Europe/Berlin',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      hourCycle: 'h23',
    }).format(next);
    expect(berlin).toBe('1, 00:00');
    const t = await runCli(['trigger', 'credit-top-up', '--json'], s.env);
    expect(t.code, t.stderr).toBe(0);
    const { jobId } = JSON.parse(t.stdout) as { jobId: string };
    await waitFor(
      'the top-up ran',
      async () => (await s.conn.hget(`${s.prefix}:credit-top-up:${jobId}`, 'returnvalue')) === '{"toppedUp":42}',
    );
  });
});
