/**
 * Makes the job schedulers in Redis match the definitions: upsert what is enabled and new or changed,
 * delete what is disabled or unknown. Serialised across producers by a short Redis lock, and a
 * scheduler whose settings did not change is left alone, so restarts never reset its cadence.
 */
import { randomUUID } from 'node:crypto';
import type { JobsOptions, Queue } from 'bullmq';
import { JOB_NAMES } from '../jobs/registry.js';
import type { Logger } from '../logger.js';
import type { RedisClient } from '../redis.js';
import type { ScheduleDefinition, TickTemplateData } from './definitions.js';

const LOCK_TTL_MS = 15_000;
const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

export interface ReconcileResult {
  created: string[];
  updated: string[];
  removed: string[];
  unchanged: string[];
}

export function reconcileLockKey(prefix: string): string {
  return `${prefix}:spotter-jobs:reconcile-lock`;
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
    await conn.eval(RELEASE, 1, key, token);
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
    const out: ReconcileResult = { created: [], updated: [], removed: [], unchanged: [] };
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
      const curSpec = (cur?.template?.data as TickTemplateData | undefined)?.spec;
      if (cur && curSpec === d.spec) {
        out.unchanged.push(d.name);
        continue;
      }
      const data: TickTemplateData = { schedule: d.name, spec: d.spec };
      await queue.upsertJobScheduler(d.name, d.repeat, { name: JOB_NAMES.tick, data, opts: opts.tickOptions });
      (cur ? out.updated : out.created).push(d.name);
    }
    for (const key of existing.keys()) {
      await queue.removeJobScheduler(key);
      out.removed.push(key);
    }
    log.info(out, 'schedules reconciled');
    return out;
  });
}
