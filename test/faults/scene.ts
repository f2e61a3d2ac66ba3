/**
 * A fault-injection scene: a private redis-server with AOF, real producer and worker processes, and a
 * ledger outside Redis (fsynced lines from the handler) to count what was lost or run twice.
 */
import { appendFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { loadConfig } from '../../src/config/load.js';
import { DEAD_LETTER_QUEUE, type DeadLetterData, userJobId } from '../../src/jobs/registry.js';
import { freePort, LocalRedis } from '../../src/redis/local.js';
import { optionsFor } from '../helpers/handlers.js';
import { FIXTURE, type LedgerEntry, readLedger } from '../helpers/ledger.js';
import { type CliProcess, startCli } from '../helpers/spawn-cli.js';
import { waitFor } from '../helpers/wait-for.js';

export const RESULTS = resolve(import.meta.dirname, '../../test-artifacts/faults.jsonl');

export interface Figures {
  fault: string;
  jobs: number;
  lost: number;
  duplicates: number;
  recoveryMs?: number;
  criterion: string;
  passed: boolean;
  note?: string;
}

/** Prints one line per fault and keeps it for docs/reliability.md. */
export function report(f: Figures): void {
  mkdirSync(resolve(RESULTS, '..'), { recursive: true });
  appendFileSync(RESULTS, `${JSON.stringify(f)}\n`);
  const rec = f.recoveryMs === undefined ? '' : ` recovery=${(f.recoveryMs / 1000).toFixed(2)}s`;
  process.stdout.write(
    `FAULT ${f.passed ? 'PASS' : 'FAIL'} ${f.fault}: jobs=${f.jobs} lost=${f.lost} duplicates=${f.duplicates}${rec} (${f.criterion})${f.note ? ` ${f.note}` : ''}\n`,
  );
}

export class Scene {
  readonly dir = mkdtempSync(join(tmpdir(), 'spotter-jobs-fault-'));
  readonly ledger = join(this.dir, 'ledger.jsonl');
  readonly prefix = `f${Math.random().toString(36).slice(2, 8)}`;
  redis!: LocalRedis;
  conn!: Redis;
  private port = 0;
  private readonly procs: CliProcess[] = [];
  readonly added = new Set<string>();

  constructor(readonly extraEnv: Record<string, string> = {}) {}

  async start(opts: { appendonly?: boolean } = {}): Promise<this> {
    this.port = await freePort();
    await this.startRedis(opts.appendonly ?? true);
    return this;
  }

  async startRedis(appendonly = true): Promise<void> {
    this.redis = new LocalRedis({ port: this.port, dir: join(this.dir, 'redis'), appendonly });
    await this.redis.start();
    this.conn?.disconnect();
    this.conn = new Redis(this.redis.url, { maxRetriesPerRequest: null });
    this.conn.on('error', () => {});
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  env(more: Record<string, string> = {}): Record<string, string> {
    return {
      REDIS_URL: this.url,
      SPOTTER_JOBS_PREFIX: this.prefix,
      SPOTTER_JOBS_HANDLERS: FIXTURE,
      FIXTURE_LEDGER: this.ledger,
      FIXTURE_FSYNC: '1',
      SPOTTER_JOBS_LOG_LEVEL: 'info',
      SPOTTER_JOBS_HTTP_PORT: '0',
      SPOTTER_JOBS_WORKER_HTTP_PORT: '0',
      SPOTTER_JOBS_BACKOFF: '100ms',
      SPOTTER_JOBS_LOCK_DURATION: '2s',
      SPOTTER_JOBS_STALLED_INTERVAL: '1s',
      SPOTTER_JOBS_RETENTION_INTERVAL: '500ms',
      SPOTTER_METADATA_ENABLED: 'false',
      SPOTTER_JOBS_WRITEBACK_ENABLED: 'false',
      SPOTTER_JOBS_SYNC_ENABLED: 'false',
      ...this.extraEnv,
      ...more,
    };
  }

  spawn(role: string[], more: Record<string, string> = {}): CliProcess {
    const p = startCli(role, this.env(more));
    this.procs.push(p);
    return p;
  }

  async worker(more: Record<string, string> = {}): Promise<CliProcess> {
    const w = this.spawn(['worker', '--queues', 'sync'], more);
    await w.waitForLog((l) => l.msg === 'worker started', 'worker started');
    return w;
  }

  /** Adds jobs from the test process; an id counts as acknowledged once addBulk resolved. */
  async add(users: string[], queue = 'sync'): Promise<string[]> {
    const config = loadConfig(this.env());
    const q = new Queue(queue, { connection: this.conn, prefix: this.prefix });
    q.on('error', () => {});
    const ids: string[] = [];
    try {
      for (let i = 0; i < users.length; i += 500) {
        const chunk = users.slice(i, i + 500).map((userId) => ({
          name: 'user',
          data: { userId, scheduledFor: Date.now(), tick: 'fault' },
          opts: { ...optionsFor(config, queue), jobId: userJobId('fault', userId) },
        }));
        await q.addBulk(chunk);
        for (const c of chunk) {
          this.added.add(c.opts.jobId);
          ids.push(c.opts.jobId);
        }
      }
    } finally {
      await q.close().catch(() => {});
    }
    return ids;
  }

  entries(): LedgerEntry[] {
    return readLedger(this.ledger);
  }

  completed(): Set<string> {
    return new Set(
      this.entries()
        .filter((e) => e.event === 'end')
        .map((e) => e.jobId),
    );
  }

  async deadLettered(): Promise<Map<string, DeadLetterData>> {
    const q = new Queue(DEAD_LETTER_QUEUE, { connection: this.conn, prefix: this.prefix });
    const jobs = await q.getJobs(['waiting'], 0, -1);
    await q.close();
    return new Map(jobs.filter(Boolean).map((j) => [(j.data as DeadLetterData).sourceJobId, j.data as DeadLetterData]));
  }

  /** lost: acknowledged but neither completed nor dead-lettered; duplicates: executions beyond one. */
  async tally(ids: Iterable<string> = this.added): Promise<{ lost: number; duplicates: number; executions: number }> {
    const done = this.completed();
    const dead = await this.deadLettered();
    const starts = new Map<string, number>();
    for (const e of this.entries()) if (e.event === 'start') starts.set(e.jobId, (starts.get(e.jobId) ?? 0) + 1);
    let lost = 0;
    let duplicates = 0;
    let executions = 0;
    for (const id of ids) {
      if (!done.has(id) && !dead.has(id)) lost++;
      const n = starts.get(id) ?? 0;
      executions += n;
      if (n > 1) duplicates += n - 1;
    }
    return { lost, duplicates, executions };
  }

  async settled(ids: Iterable<string> = this.added, timeoutMs = 60_000): Promise<void> {
    const list = [...ids];
    await waitFor(
      'every acknowledged job completed or dead-lettered',
      async () => {
        const done = this.completed();
        const dead = await this.deadLettered();
        return list.every((id) => done.has(id) || dead.has(id));
      },
      { timeoutMs, intervalMs: 200 },
    );
  }

  /** Time from `since` to the first completion after it. */
  async recoveredAfter(since: number, timeoutMs = 60_000): Promise<number> {
    const e = await waitFor('a completion after the fault', () => this.entries().find((x) => x.event === 'end' && x.t > since), {
      timeoutMs,
      intervalMs: 50,
    });
    return e.t - since;
  }

  async dispose(): Promise<void> {
    await Promise.all(this.procs.map((p) => p.stop()));
    this.conn?.disconnect();
    await this.redis?.stop('SIGKILL');
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export const range = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${i}`);
