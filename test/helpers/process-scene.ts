/**
 * Real CLI processes on the test Redis (or one given), with the fixture handler module recording every
 * execution in a ledger file. `useProcessScenes()` registers the cleanup: children killed, prefix
 * keys and files removed after each test.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect } from 'vitest';
import { FIXTURE } from './ledger.js';
import { deletePrefix, newPrefix, testEnv, testRedis } from './redis.js';
import { type CliProcess, runCli, startCli } from './spawn-cli.js';

export function useProcessScenes() {
  const procs: CliProcess[] = [];
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    await Promise.all(procs.splice(0).map((p) => p.stop()));
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  function scene(extra: Record<string, string> = {}, redisUrl?: string) {
    const prefix = newPrefix();
    const dir = mkdtempSync(join(tmpdir(), 'spotter-jobs-proc-'));
    const ledger = join(dir, 'ledger.jsonl');
    const env: Record<string, string> = {
      ...testEnv(prefix),
      ...(redisUrl ? { REDIS_URL: redisUrl } : {}),
      SPOTTER_JOBS_HANDLERS: FIXTURE,
      FIXTURE_LEDGER: ledger,
      SPOTTER_JOBS_LOG_LEVEL: 'info',
      ...extra,
    };
    const conn = testRedis(env.REDIS_URL);
    cleanups.push(async () => {
      await deletePrefix(conn, prefix).catch(() => {});
      conn.disconnect();
      rmSync(dir, { recursive: true, force: true });
    });
    const start = (args: string[], more: Record<string, string> = {}) => {
      const p = startCli(args, { ...env, ...more });
      procs.push(p);
      return p;
    };
    /** `spotter-jobs trigger sync --user U`; returns the job id. */
    const trigger = async (user: string) => {
      const r = await runCli(['trigger', 'sync', '--user', user, '--json'], env);
      expect(r.code, r.stderr).toBe(0);
      return JSON.parse(r.stdout).jobId as string;
    };
    return { prefix, env, ledger, conn, start, trigger };
  }
  /** Registers more cleanup; it runs after the processes are stopped, in reverse order. */
  const onCleanup = (fn: () => Promise<void> | void) => {
    cleanups.push(fn);
  };
  return Object.assign(scene, { onCleanup });
}
