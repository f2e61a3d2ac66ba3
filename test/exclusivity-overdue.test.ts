/**
 * An exclusivity group holds a user until the handler has really returned: past its timeout (a
 * handler that ignores its signal, or Spotter still working on a request), and not after its worker
 * lost its lease (a process stopped for longer than the lock is aborted when it wakes).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { type LedgerEntry, readLedger } from './helpers/ledger.js';
import { useProcessScenes } from './helpers/process-scene.js';
import { runCli } from './helpers/spawn-cli.js';
import { waitFor } from './helpers/wait-for.js';

const scene = useProcessScenes();

/** Sync and write-back on demand only, on separate workers; one attempt, so a timeout ends the job. */
const GROUP = {
  FIXTURE_FSYNC: '1',
  SPOTTER_JOBS_LOCK_DURATION: '2s',
  SPOTTER_JOBS_STALLED_INTERVAL: '1s',
  SPOTTER_JOBS_LOG_LEVEL: 'info',
  SPOTTER_SYNC_INTERVAL: '1h',
  SPOTTER_METADATA_ENABLED: 'false',
};

type Scene = ReturnType<typeof scene>;

async function workers(s: Scene, sync: Record<string, string>, writeBack: Record<string, string>) {
  const w = {
    sync: s.start(['worker', '--queues', 'sync'], sync),
    writeBack: s.start(['worker', '--queues', 'writeback'], writeBack),
  };
  await Promise.all([w.sync, w.writeBack].map((p) => p.waitForLog((l) => l.msg === 'worker started', 'worker started')));
  return w;
}

async function trigger(s: Scene, kind: string, user: string): Promise<void> {
  const r = await runCli(['trigger', kind, '--user', user], s.env);
  expect(r.code, r.stderr).toBe(0);
}

const find = (s: Scene, pred: (e: LedgerEntry) => boolean) =>
  waitFor('a ledger line', () => readLedger(s.ledger).find(pred), { timeoutMs: 30_000 });

describe('exclusivity groups past a timeout or a lost lease', () => {
  it('a handler that ignores its signal past the timeout keeps its user: the other kind waits for it to return', async () => {
    const s = scene({ ...GROUP, SPOTTER_JOBS_ATTEMPTS: '1', SPOTTER_JOBS_SYNC_TIMEOUT: '1s' });
    // Sync's handler goes on for 5 s past its 1 s timeout; write-back's is short.
    const w = await workers(s, { FIXTURE_DEAF_MS: '6000' }, { FIXTURE_DEAF_MS: '300' });
    await trigger(s, 'sync', 'deaf1');
    await find(s, (e) => e.event === 'start' && e.queue === 'sync');
    await w.sync.waitForLog((l) => l.msg === 'job timed out; its signal was aborted', 'sync timed out');
    await trigger(s, 'write-back', 'deaf1');
    const syncEnd = await find(s, (e) => e.event === 'end' && e.queue === 'sync');
    const wbStart = await find(s, (e) => e.event === 'start' && e.queue === 'writeback');
    await find(s, (e) => e.event === 'end' && e.queue === 'writeback');
    expect(wbStart.t).toBeGreaterThanOrEqual(syncEnd.t);
  });

  it('HTTP mode: a request past its timeout keeps its user until Spotter answers', async () => {
    // Spotter works 8 s on /sync whatever the client does, 300 ms on /writeback.
    const work: Array<{ kind: string; start: number; end?: number }> = [];
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        const kind = (req.url ?? '').split('/').pop() ?? '';
        const w: { kind: string; start: number; end?: number } = { kind, start: Date.now() };
        work.push(w);
        setTimeout(
          () => {
            w.end = Date.now();
            if (!res.destroyed) res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
          },
          kind === 'sync' ? 8000 : 300,
        );
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    scene.onCleanup(() => new Promise<void>((r) => server.close(() => r())));
    const s = scene({
      ...GROUP,
      SPOTTER_JOBS_HANDLERS: '',
      SPOTTER_URL: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      SPOTTER_JOBS_ATTEMPTS: '1',
      SPOTTER_JOBS_SYNC_TIMEOUT: '1s',
    });
    const w = await workers(s, {}, {});
    await trigger(s, 'sync', 'x');
    await waitFor('Spotter working on /sync', () => work.some((x) => x.kind === 'sync'));
    // The attempt failed at its timeout (as a timed-out attempt, or as a request cut at it).
    await w.sync.waitForLog((l) => l.msg === 'job failed for good; dead-lettering', 'sync timed out');
    await trigger(s, 'write-back', 'x');
    const wb = await waitFor('Spotter done with /writeback', () => work.find((x) => x.kind === 'writeback' && x.end), {
      timeoutMs: 30_000,
    });
    const sync = work.find((x) => x.kind === 'sync') as { end?: number };
    expect(sync.end, 'Spotter finished /sync before /writeback began').toBeDefined();
    expect(wb.start).toBeGreaterThanOrEqual(sync.end as number);
  });

  it('a worker stopped for longer than the lock is aborted when it wakes, in the lane and on keys', async () => {
    const s = scene(GROUP);
    const w = await workers(s, { FIXTURE_SLOW_MS: '8000', SPOTTER_JOBS_LOG_LEVEL: 'debug' }, { FIXTURE_SLOW_MS: '300' });
    // The first sync job takes its user's key; once sync is alone in the group the second runs in its lane.
    await trigger(s, 'sync', 'slowa');
    await find(s, (e) => e.event === 'start' && e.userId === 'slowa');
    await w.sync.waitForLog((l) => l.msg === 'alone in its exclusivity group: running without per-user keys', 'sync in the lane');
    await trigger(s, 'sync', 'slowb');
    await find(s, (e) => e.event === 'start' && e.userId === 'slowb');

    // (A stopped process still dies of the scene's SIGKILL, whatever happens below.)
    process.kill(w.sync.pid, 'SIGSTOP');
    await trigger(s, 'write-back', 'slowa');
    await trigger(s, 'write-back', 'slowb');
    // Write-back runs once the stopped worker's key and lane lease lapse.
    for (const u of ['slowa', 'slowb']) await find(s, (e) => e.event === 'end' && e.queue === 'writeback' && e.userId === u);
    process.kill(w.sync.pid, 'SIGCONT');

    for (const u of ['slowa', 'slowb']) {
      // The stopped run must not finish its work: it is aborted as soon as its process wakes.
      const stopped = await find(s, (e) => e.queue === 'sync' && e.userId === u && e.event !== 'start');
      expect(stopped.event, `the stopped sync run of ${u}`).toBe('error');
      expect(stopped.aborted).toBe(true);
      expect(stopped.err).toMatch(/lost/);
    }
    // Neither job is lost: each runs again (BullMQ's stalled handling) after write-back, and completes.
    const wbEnd = Math.max(
      ...readLedger(s.ledger)
        .filter((e) => e.queue === 'writeback' && e.event === 'end')
        .map((e) => e.t),
    );
    for (const u of ['slowa', 'slowb']) {
      await waitFor(
        `sync of ${u} completed`,
        () => readLedger(s.ledger).some((e) => e.queue === 'sync' && e.userId === u && e.event === 'end'),
        {
          timeoutMs: 40_000,
        },
      );
      const again = readLedger(s.ledger).filter((e) => e.queue === 'sync' && e.userId === u && e.event === 'start');
      expect(again.length).toBeGreaterThanOrEqual(2);
      expect((again.at(-1) as LedgerEntry).t).toBeGreaterThanOrEqual(wbEnd);
    }
  });
});
