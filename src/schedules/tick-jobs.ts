/**
 * How a tick's jobs ended so far: one small hash per tick, counted by the workers as each job of the
 * tick settles (its id or data names the tick), so `status` shows more than how many were added.
 * For a global kind the hash also holds its one job's state, attempt and reason: that job is the
 * kind's last run. Workers sum their updates for a moment and write them in one pipeline; the hash
 * expires on its own (tickJobsTtlMs).
 */
import type { KindConfig } from '../config/kind-config.js';
import { tickToken } from '../jobs/registry.js';
import { scripted } from '../redis/commands.js';
import type { RedisClient } from '../redis/connection.js';
import { tickJobsKey } from '../redis/keys.js';
import { intervalAt } from './catch-up.js';

export interface TickJobs {
  completed: number;
  /** Failed at least once and not finished yet (an attempt left). */
  retrying: number;
  deadLettered: number;
}

/** A global kind's one job, as its worker last saw it settle. */
export interface GlobalRun {
  state: 'completed' | 'retrying' | 'dead_lettered';
  /** Attempts made so far, and allowed. */
  attempt: number;
  attempts: number;
  reason?: string;
  /** When it settled (epoch ms). */
  at: number;
}

export interface TickJobsRecord {
  jobs: TickJobs;
  run?: GlobalRun;
}

/** How a settled attempt ended, as the worker saw it. */
export type Settled = 'completed' | 'retry' | 'dead_letter';

const DAY_MS = 86_400_000;
/** Bounds of the hash's lifetime: a day at least, so a paused or rare schedule keeps its counts a while; 40 days at most (a monthly cron's two runs). */
const MIN_TTL_MS = DAY_MS;
const MAX_TTL_MS = 40 * DAY_MS;

/** Two of the kind's intervals (the counts are read while the tick is the last one), within the bounds above. */
export function tickJobsTtlMs(kind: KindConfig, tz: string, now = Date.now()): number {
  if (!kind.schedule) return MIN_TTL_MS;
  let interval: number;
  try {
    interval = intervalAt(kind.schedule, tz, now);
  } catch {
    // A rule only a producer checks (a worker does not refuse it at start): keep the counts long.
    return MAX_TTL_MS;
  }
  return Math.min(MAX_TTL_MS, Math.max(MIN_TTL_MS, 2 * interval));
}

/** What one settled attempt changes in its tick's hash: counters to add, and a global kind's run. */
export interface SettledChange {
  incr: Partial<Record<keyof TickJobs, number>>;
  run?: GlobalRun;
}

/**
 * One settled attempt of a job of the tick. `attemptsMade` includes the attempt that just ended, so
 * a job that failed before (`attemptsMade > 1`) leaves `retrying` when it ends for good.
 */
export function settledChange(
  kind: KindConfig,
  s: { outcome: Settled; attemptsMade: number; attempts: number; reason?: string },
): SettledChange {
  const wasRetrying = s.attemptsMade > 1;
  const incr: SettledChange['incr'] = {};
  if (s.outcome === 'retry') {
    if (!wasRetrying) incr.retrying = 1;
  } else {
    incr[s.outcome === 'completed' ? 'completed' : 'deadLettered'] = 1;
    if (wasRetrying) incr.retrying = -1;
  }
  if (kind.scope !== 'global') return { incr };
  const state: GlobalRun['state'] = s.outcome === 'completed' ? 'completed' : s.outcome === 'retry' ? 'retrying' : 'dead_lettered';
  const reason = s.outcome !== 'completed' && s.reason ? s.reason.slice(0, 500) : undefined;
  return { incr, run: { state, attempt: s.attemptsMade, attempts: s.attempts, at: Date.now(), ...(reason ? { reason } : {}) } };
}

/**
 * Writes changes already summed per tick (nearly always one tick, a few commands); each hash's
 * lifetime starts again. Sent as commands written together, not an ioredis pipeline: a pipeline binds
 * every script defined on the connection when it is made, which cost more than these writes.
 */
export async function writeSettled(
  conn: RedisClient,
  changes: Iterable<{ key: string; change: SettledChange; ttlMs: number }>,
): Promise<void> {
  const sent: Array<Promise<unknown>> = [];
  for (const { key, change, ttlMs } of changes) {
    for (const [field, n] of Object.entries(change.incr)) if (n) sent.push(conn.hincrby(key, field, n));
    if (change.run) {
      const r = change.run;
      sent.push(conn.hset(key, 'state', r.state, 'attempt', r.attempt, 'attempts', r.attempts, 'at', r.at));
      sent.push(r.reason ? conn.hset(key, 'reason', r.reason) : conn.hdel(key, 'reason'));
    }
    sent.push(conn.pexpire(key, ttlMs));
  }
  await Promise.all(sent);
}

/** A dead letter of the tick was replayed: it no longer counts as dead-lettered, and runs again. */
export async function recordReplayed(conn: RedisClient, prefix: string, schedule: string, tickId: string): Promise<void> {
  await scripted(conn).sjTickReplayed(tickJobsKey(prefix, schedule, tickToken(tickId)));
}

export async function readTickJobs(
  conn: RedisClient,
  prefix: string,
  schedule: string,
  tickId: string,
): Promise<TickJobsRecord | undefined> {
  const h = await conn.hgetall(tickJobsKey(prefix, schedule, tickToken(tickId)));
  if (Object.keys(h).length === 0) return undefined;
  const n = (f: string) => Math.max(0, Number(h[f] ?? 0) || 0);
  const rec: TickJobsRecord = { jobs: { completed: n('completed'), retrying: n('retrying'), deadLettered: n('deadLettered') } };
  if (h.state === 'completed' || h.state === 'retrying' || h.state === 'dead_lettered') {
    rec.run = {
      state: h.state,
      attempt: n('attempt'),
      attempts: n('attempts'),
      at: n('at'),
      ...(h.reason ? { reason: h.reason } : {}),
    };
  }
  return rec;
}
