/**
 * Windowed fan-out: a tick keeps at most a window of its queue's jobs waiting and tops it up as they
 * drain, from a cursor in Redis; a producer that dies mid-tick is replaced by one that resumes there;
 * a newer tick of the schedule supersedes an older one still paging.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { KindConfig } from '../src/config/kind-config.js';
import { loadConfig } from '../src/config/load.js';
import { moduleHandlers } from '../src/handlers/module.js';
import { type Handlers, paginate } from '../src/handlers/types.js';
import { userPages } from '../src/handlers/user-pages.js';
import { fanOut } from '../src/producers/fan-out.js';
import { windowFor } from '../src/producers/tick-consumer.js';
import { type TickResult, tickHistory } from '../src/schedules/tick-record.js';
import { Consumers } from '../src/workers/consumer.js';
import { configError } from './helpers/config-error.js';
import { type Harness, harness } from './helpers/harness.js';
import { useProcessScenes } from './helpers/process-scene.js';
import { runCli } from './helpers/spawn-cli.js';
import { waitFor } from './helpers/wait-for.js';

const open: Harness[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((h) => h.dispose()));
});
const users = (n: number) => Array.from({ length: n }, (_, i) => `u${i + 1}`);

/** Every user's runs, counted by the handler. */
function counting(ids: string[]): { handlers: Handlers; runs: Map<string, number> } {
  const runs = new Map<string, number>();
  const run = async (userId: string) => {
    runs.set(userId, (runs.get(userId) ?? 0) + 1);
    return null;
  };
  return { handlers: { mode: 'module', listUsers: (n) => paginate(ids, n), run: { sync: run, enrichment: run, writeback: run } }, runs };
}

/** Jobs of the queue not yet started: what the window bounds. */
async function notStarted(x: Harness, queue: string): Promise<number> {
  const c = await x.queues.get(queue).getJobCounts('waiting', 'prioritized', 'delayed');
  return (c.waiting ?? 0) + (c.prioritized ?? 0) + (c.delayed ?? 0);
}

describe('the fan-out window setting', () => {
  it('is 20 jobs per slot, at least 1,000, by default; a number sets it, 0 turns it off', () => {
    const auto = loadConfig({ SPOTTER_JOBS_SYNC_CONCURRENCY: '200' });
    expect(windowFor(auto, auto.kinds.sync as KindConfig)).toBe(4000);
    expect(windowFor(auto, auto.kinds.enrichment as KindConfig)).toBe(1000);
    const fixed = loadConfig({ SPOTTER_JOBS_FANOUT_WINDOW: '500' });
    expect(windowFor(fixed, fixed.kinds.sync as KindConfig)).toBe(500);
    expect(loadConfig({ SPOTTER_JOBS_FANOUT_WINDOW: '0' }).fanoutWindow).toBe(0);
    const err = configError({ SPOTTER_JOBS_FANOUT_WINDOW: 'lots' });
    expect(err.variable).toBe('SPOTTER_JOBS_FANOUT_WINDOW');
    expect(err.message).toMatch(/auto, or a whole number/);
  });
});

describe('windowed fan-out', () => {
  it('never has more than the window waiting: 20,000 users, window 500, each run once', async () => {
    const x = await harness({ SPOTTER_JOBS_SYNC_CONCURRENCY: '50', SPOTTER_JOBS_SYNC_EXCLUSIVE: 'none' });
    open.push(x);
    const ids = users(20_000);
    const { handlers, runs } = counting(ids);
    const consumers = new Consumers({ ...x, handlers }, [x.config.kinds.sync as KindConfig]);
    consumers.start();
    let peak = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        peak = Math.max(peak, await notStarted(x, 'sync'));
        await new Promise((r) => setImmediate(r));
      }
    })();
    const r = await fanOut(
      { ...x, handlers },
      { kind: x.config.kinds.sync as KindConfig, tickId: 'repeat:sync:1', scheduledFor: 1, spreadMs: 0, window: 500 },
    );
    await waitFor('every user run', () => runs.size === 20_000, { timeoutMs: 60_000 });
    sampling = false;
    await sampler;
    await consumers.close();
    expect(r).toMatchObject({ users: 20_000, added: 20_000, coalesced: 0, errors: 0, duplicates: 0 });
    expect(peak).toBeGreaterThan(0);
    expect(peak).toBeLessThanOrEqual(500);
    expect([...runs.values()].every((n) => n === 1)).toBe(true);
    // Its cursor is gone with the tick.
    expect(await x.conn.keys(`${x.prefix}:spotter-jobs:fanout:*`)).toEqual([]);
  }, 90_000);

  it('stops when a newer tick of the schedule starts; the newer one goes on where it stopped and round to it, each user run once per tick that reached them', async () => {
    const x = await harness({ SPOTTER_JOBS_SYNC_EXCLUSIVE: 'none' });
    open.push(x);
    const ids = users(2000);
    const { handlers, runs } = counting(ids);
    const kind = x.config.kinds.sync as KindConfig;
    // No worker yet: the older tick fills its window and waits for room.
    const older = fanOut({ ...x, handlers }, { kind, tickId: 'repeat:sync:1000', scheduledFor: 1000, spreadMs: 0, window: 100 });
    await waitFor('the window full', async () => (await notStarted(x, 'sync')) === 100);
    const newer = fanOut({ ...x, handlers }, { kind, tickId: 'repeat:sync:2000', scheduledFor: 2000, spreadMs: 0, window: 100 });
    const o = await older;
    expect(o).toMatchObject({
      superseded: true,
      supersededBy: 'repeat:sync:2000',
      users: 100,
      added: 100,
      listing: { from: 0, reached: 100 },
    });
    const consumers = new Consumers({ ...x, handlers }, [kind]);
    consumers.start();
    const n = await newer;
    expect(n.superseded).toBeUndefined();
    expect(n.users).toBe(2000);
    // It began where the older one stopped, went to the end, and round to where it began.
    expect(n.listing).toEqual({ from: 100, reached: 100, of: 2000, wrapped: true });
    expect(n.added + n.coalesced).toBe(2000);
    await waitFor('every user run', () => runs.size === 2000, { timeoutMs: 30_000 });
    await waitFor(
      'the queue drained',
      async () => (await notStarted(x, 'sync')) === 0 && (await x.queues.get('sync').getActiveCount()) === 0,
    );
    await consumers.close();
    // Once per tick that reached them: the first 100 by both ticks (the newer one last, coalesced
    // when the older job still waited), every other user by the newer tick only.
    const reachedByBoth = ids.slice(0, 100);
    for (const u of reachedByBoth) expect(runs.get(u)).toBeGreaterThanOrEqual(1);
    for (const u of reachedByBoth) expect(runs.get(u)).toBeLessThanOrEqual(2);
    expect(ids.slice(100).filter((u) => runs.get(u) !== 1)).toEqual([]);
    // An older tick redone later (its producer died) does not take over from the newer one.
    const redo = await fanOut({ ...x, handlers }, { kind, tickId: 'repeat:sync:500', scheduledFor: 500, spreadMs: 0, window: 100 });
    expect(redo).toMatchObject({ superseded: true, added: 0 });
    // Neither superseded tick leaves a cursor behind.
    expect(await x.conn.keys(`${x.prefix}:spotter-jobs:fanout:*`)).toEqual([]);
  }, 60_000);

  it('resumes a cursor-paged module listing from its cursor, and re-lists a plain one from the position', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cursor-module-'));
    const file = join(dir, 'handlers.mjs');
    writeFileSync(
      file,
      `const all = Array.from({ length: 35 }, (_, i) => 'u' + (i + 1));
export const asked = [];
export async function listUsers({ cursor, limit }) {
  asked.push(cursor);
  const start = Number(cursor ?? 0);
  return { users: all.slice(start, start + limit), nextCursor: start + limit < all.length ? String(start + limit) : null };
}
export const sync = async () => null;`,
    );
    try {
      const config = loadConfig({});
      const h = await moduleHandlers(file, Object.values(config.kinds), { needsUsers: true, kinds: [] });
      const all = users(35);
      const pages: string[][] = [];
      for await (const p of userPages(h, { skip: 20, token: '20' }, 10)) pages.push(p.users);
      expect(pages).toEqual([all.slice(20, 30), all.slice(30, 35)]);
      // Asked for the saved cursor first: nothing before it is listed again.
      expect((await import(file)).asked).toEqual(['20', '30']);
      // A plain listing has no cursor: it is listed again and skipped up to the position.
      const plain: Handlers = { mode: 'module', listUsers: (n) => paginate(all, n), run: {} };
      const again: string[][] = [];
      for await (const p of userPages(plain, { skip: 13 }, 10)) again.push(p.users);
      expect(again).toEqual([all.slice(13, 20), all.slice(20, 30), all.slice(30, 35)]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('windowed ticks across producers', () => {
  const scene = useProcessScenes();

  it('a producer SIGKILLed mid-tick, twice: the next one resumes from the cursor, 0 duplicates, 0 skipped', async () => {
    const s = scene({
      FIXTURE_USERS: '2000',
      FIXTURE_WORK_MS: '10',
      SPOTTER_JOBS_FANOUT_WINDOW: '100',
      SPOTTER_JOBS_SYNC_CONCURRENCY: '10',
      SPOTTER_JOBS_LOCK_DURATION: '2s',
      SPOTTER_JOBS_STALLED_INTERVAL: '1s',
      SPOTTER_METADATA_ENABLED: 'false',
      SPOTTER_JOBS_WRITEBACK_ENABLED: 'false',
      SPOTTER_JOBS_SYNC_ENABLED: 'false',
    });
    const worker = s.start(['worker', '--queues', 'sync']);
    await worker.waitForLog((l) => l.msg === 'worker started', 'worker started');
    let producer = s.start(['producer']);
    await producer.waitForLog((l) => l.msg === 'producer started', 'producer started');
    const t = await runCli(['trigger', 'sync', '--json'], s.env);
    expect(t.code, t.stderr).toBe(0);
    const position = async () => {
      const [key] = await s.conn.keys(`${s.prefix}:spotter-jobs:fanout:*`);
      return key ? (JSON.parse((await s.conn.get(key)) ?? '{}') as { position: { skip: number } }).position.skip : 0;
    };
    for (const at of [400, 1200]) {
      await waitFor(`the tick past user ${at}`, async () => (await position()) >= at, { timeoutMs: 30_000 });
      producer.kill('SIGKILL');
      await producer.exited;
      producer = s.start(['producer']);
    }
    await producer.waitForLog((l) => l.msg === 'tick sync finished', 'the tick finished by the last producer', 60_000);
    const ends = () => {
      const out = new Map<string, number>();
      for (const line of readFileSync(s.ledger, 'utf8').trim().split('\n')) {
        const l = JSON.parse(line) as { event: string; userId: string };
        if (l.event === 'end') out.set(l.userId, (out.get(l.userId) ?? 0) + 1);
      }
      return out;
    };
    await waitFor('every user run', () => ends().size === 2000, { timeoutMs: 30_000 });
    expect([...ends().keys()].sort()).toEqual(Array.from({ length: 2000 }, (_, i) => `u${i + 1}`).sort());
    expect([...ends().entries()].filter(([, n]) => n > 1)).toEqual([]);
  }, 120_000);

  it('a schedule that cannot keep up: each new tick supersedes the one still paging, shown in status and a metric', async () => {
    const s = scene({
      FIXTURE_USERS: '600',
      FIXTURE_WORK_MS: '20',
      SPOTTER_JOBS_FANOUT_WINDOW: '40',
      SPOTTER_JOBS_SYNC_CONCURRENCY: '2',
      SPOTTER_SYNC_INTERVAL: '2s',
      SPOTTER_METADATA_ENABLED: 'false',
      SPOTTER_JOBS_WRITEBACK_ENABLED: 'false',
    });
    s.start(['worker', '--queues', 'sync']);
    const producer = s.start(['producer']);
    const board = await producer.waitForLog((l) => /^board at /.test(l.msg), 'the producer serving');
    const line = await producer.waitForLog((l) => /^tick sync superseded/.test(l.msg), 'a superseded tick', 30_000);
    // It says how far it got and which tick goes on from there.
    expect(line.msg).toMatch(/^tick sync superseded: reached \d+ (of 600 )?\(from \d+(, wrapped round)?\); tick \S+ took over there$/);
    const metrics = await (await fetch(`${String(board.url)}/metrics`)).text();
    expect(metrics).toMatch(/spotter_jobs_ticks_total\{schedule="sync",result="superseded"\} [1-9]/);
    const history = await tickHistory(s.conn, s.prefix, 'sync');
    const superseded = history.find((t) => t.result === 'superseded');
    expect(superseded?.users).toBeLessThan(600);
    const status = await runCli(['status', '--json'], s.env);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toContain('superseded');
    const last = (JSON.parse(status.stdout) as { schedules: Array<{ name: string; lastRun: TickResult | null }> }).schedules.find(
      (k) => k.name === 'sync',
    )?.lastRun;
    expect(last?.listing?.reached).toEqual(expect.any(Number));
  }, 60_000);
});
