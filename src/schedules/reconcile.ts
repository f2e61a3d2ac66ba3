/**
 * Makes the job schedulers in Redis match the definitions: upsert what is enabled and new or changed,
 * delete what is disabled or unknown. Serialised across producers by a short Redis lock, and a
 * scheduler whose settings did not change is left alone, so restarts never reset its cadence.
 */
import { randomUUID } from 'node:crypto';
import type { JobsOptions, Queue } from 'bullmq';
import { JOB_NAMES } from '../jobs/registry.js';
import { scripted } from '../redis/commands.js';
import type { RedisClient } from '../redis/connection.js';
import { reconcileLockKey } from '../redis/keys.js';
import type { Logger } from '../telemetry/logger.js';
import { repeatAt, type ScheduleDefinition, type TickTemplateData } from './definitions.js';
import { FUNCTION_PATTERN, isRrulePattern } from './kind-cadence.js';

const LOCK_TTL_MS = 15_000;

export interface ReconcileResult {
  created: string[];
  updated: string[];
  /** Schedulers whose settings in Redis had drifted from the config (edited elsewhere), put back. */
  repaired: string[];
  removed: string[];
  unchanged: string[];
}

type Scheduler = Awaited<ReturnType<Queue['getJobSchedulers']>>[number];

/** Stable JSON, so option objects compare equal whatever their key order. */
function canonical(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  return `{${Object.keys(v as object)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
    .join(',')}}`;
}

/**
 * How what Redis holds differs from the definition: the repeat settings and the tick template, read
 * back from the scheduler itself rather than trusted from a fingerprint, so an edit made outside the
 * config (on the board, with redis-cli) is seen and undone.
 */
export function driftOf(cur: Scheduler, d: ScheduleDefinition, tickOptions: JobsOptions): string[] {
  const out: string[] = [];
  const r = d.repeat;
  if ('every' in r) {
    if (cur.every !== r.every) out.push(`every ${cur.every ?? cur.pattern} -> ${r.every}`);
    // Without a configured offset (and with firstRun: boot) the phase is wherever the scheduler
    // started, and stays there.
    if (r.offset !== undefined && Number(cur.offset ?? 0) !== r.offset) out.push(`offset ${cur.offset ?? 0} -> ${r.offset}`);
  } else {
    if (cur.pattern !== r.pattern) out.push(`pattern ${cur.pattern ?? cur.every} -> ${r.pattern}`);
    if ((cur.tz ?? undefined) !== r.tz) out.push(`tz ${cur.tz ?? '-'} -> ${r.tz}`);
  }
  const data = cur.template?.data as TickTemplateData | undefined;
  if (data?.schedule !== d.name || data?.spec !== d.spec) out.push('tick data');
  if (cur.name !== JOB_NAMES.tick) out.push('tick name');
  if (canonical(cur.template?.opts ?? {}) !== canonical(tickOptions)) out.push('tick options');
  return out;
}

/**
 * A scheduler the repeat strategy gave no next run (a schedule function that threw or answered no
 * time) keeps its last run as `next` with no tick pending: that tick has finished or is gone. Only
 * RRULE and function patterns end up so; such a scheduler is upserted again, asking for a next run.
 */
async function stranded(queue: Queue, cur: Scheduler): Promise<boolean> {
  const pattern = cur.pattern ?? '';
  if (!cur.next || !(isRrulePattern(pattern) || pattern.startsWith(FUNCTION_PATTERN))) return false;
  const state = await queue.getJobState(`repeat:${cur.key}:${cur.next}`);
  return state === 'completed' || state === 'failed' || state === 'unknown';
}

async function withLock<T>(conn: RedisClient, key: string, fn: () => Promise<T>): Promise<T> {
  const token = randomUUID();
  const deadline = Date.now() + LOCK_TTL_MS * 2;
  while ((await conn.set(key, token, 'PX', LOCK_TTL_MS, 'NX')) !== 'OK') {
    if (Date.now() > deadline) throw new Error('could not take the schedule reconcile lock (another producer holds it)');
    await new Promise((r) => setTimeout(r, 50 + Math.random() * 100));
  }
  try {
    return await fn();
  } finally {
    await scripted(conn).sjLockRelease(key, token);
  }
}

export async function reconcileSchedules(opts: {
  conn: RedisClient;
  prefix: string;
  queue: Queue;
  definitions: readonly ScheduleDefinition[];
  tickOptions: JobsOptions;
  log: Logger;
}): Promise<ReconcileResult> {
  const { conn, queue, definitions, log } = opts;
  return withLock(conn, reconcileLockKey(opts.prefix), async () => {
    const existing = new Map((await queue.getJobSchedulers(0, -1)).map((s) => [s.key, s]));
    const out: ReconcileResult = { created: [], updated: [], repaired: [], removed: [], unchanged: [] };
    for (const d of definitions) {
      const cur = existing.get(d.name);
      existing.delete(d.name);
      if (!d.enabled) {
        if (cur) {
          await queue.removeJobScheduler(d.name);
          out.removed.push(d.name);
        }
        continue;
      }
      const changes = cur ? driftOf(cur, d, opts.tickOptions) : [];
      if (cur && changes.length === 0 && (await stranded(queue, cur))) changes.push('no tick pending');
      if (cur && changes.length === 0) {
        out.unchanged.push(d.name);
        continue;
      }
      const data: TickTemplateData = { schedule: d.name, spec: d.spec };
      await queue.upsertJobScheduler(d.name, repeatAt(d, Date.now(), cur), { name: JOB_NAMES.tick, data, opts: opts.tickOptions });
      const curSpec = (cur?.template?.data as TickTemplateData | undefined)?.spec;
      if (!cur) out.created.push(d.name);
      else if (curSpec !== d.spec) out.updated.push(d.name);
      else {
        // The config did not change, Redis did: someone edited the scheduler outside the config.
        out.repaired.push(d.name);
        log.warn({ schedule: d.name, changes }, `schedule ${d.name} had drifted from the configuration (${changes.join(', ')}); put back`);
      }
    }
    for (const key of existing.keys()) {
      await queue.removeJobScheduler(key);
      out.removed.push(key);
    }
    log.info(out, 'schedules reconciled');
    return out;
  });
}
