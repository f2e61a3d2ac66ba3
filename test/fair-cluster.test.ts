/**
 * Fair admission on a real 3-master Redis Cluster: its scripts reach keys of one hash-tagged prefix
 * (the backlogs, the jobs' hashes) and its transaction mixes them with BullMQ's adds, all in one slot.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readLedger } from './helpers/ledger.js';
import { newPrefix } from './helpers/redis.js';
import { type CliProcess, runCli, startCli } from './helpers/spawn-cli.js';
import { startCluster } from './helpers/topologies.js';
import { waitFor } from './helpers/wait-for.js';

const FAIR_FIXTURE = new URL('./fixtures/fair.mjs', import.meta.url).pathname;
const procs: CliProcess[] = [];
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  await Promise.all(procs.splice(0).map((p) => p.stop()));
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('fair admission on Redis Cluster', () => {
  it('files, admits and runs two owners’ item jobs, each once, with a window smaller than the work', async () => {
    const c = await startCluster();
    cleanups.push(() => c.dispose());
    const dir = mkdtempSync(join(tmpdir(), 'spotter-jobs-fair-cluster-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const ledger = join(dir, 'ledger.jsonl');
    const env = {
      REDIS_URL: c.url,
      SPOTTER_JOBS_PREFIX: `{${newPrefix()}}`,
      SPOTTER_JOBS_HANDLERS: FAIR_FIXTURE,
      FIXTURE_LEDGER: ledger,
      FIXTURE_WORK_MS: '20',
      SPOTTER_JOBS_TRACK_CONCURRENCY: '1',
      SPOTTER_JOBS_TRACK_FAIR_WINDOW: '1',
      SPOTTER_JOBS_HTTP_PORT: '0',
      SPOTTER_JOBS_WORKER_HTTP_PORT: '0',
      SPOTTER_JOBS_LOG_LEVEL: 'info',
    };
    const ids: string[] = [];
    for (const [owner, n] of [
      ['a', 4],
      ['b', 2],
    ] as const) {
      for (let i = 0; i < n; i++) {
        const t = await runCli(['trigger', 'track', '--item', `${owner}${i}`, '--owner', owner, '--json'], env);
        expect(t.code, t.stderr).toBe(0);
        ids.push(JSON.parse(t.stdout).jobId as string);
      }
    }
    const worker = startCli(['worker'], env);
    procs.push(worker);
    await waitFor(
      'all six done',
      () =>
        new Set(
          readLedger(ledger)
            .filter((e) => e.event === 'end')
            .map((e) => e.jobId),
        ).size === 6,
      {
        timeoutMs: 30_000,
      },
    );
    const starts = readLedger(ledger).filter((e) => e.event === 'start');
    expect(starts.map((e) => e.jobId).sort()).toEqual([...ids].sort());
    expect(new Set(starts.map((e) => (e as unknown as { owner: string }).owner))).toEqual(new Set(['a', 'b']));
  });
});
