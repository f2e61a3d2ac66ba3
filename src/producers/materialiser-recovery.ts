/**
 * The materialiser's two ways back: runs a producer took but died before adding (pending past the
 * grace, their job not in Redis) are added again once; schedules set aside because a producer did
 * not know their kind or trigger are put back due, at the time they were due, once a producer does.
 */
import type { Config } from '../config/config.js';
import { fairKeys } from '../jobs/fair-keys.js';
import type { Queues } from '../jobs/queues.js';
import { scripted } from '../redis/commands.js';
import { queueKey, scheduleBaseKey, scheduleParkedKey, schedulePendingKey } from '../redis/keys.js';
import { versionOf } from '../schedules/subject/codec.js';
import { triggerOf } from '../schedules/subject/occurrence.js';
import { addOccurrences, occurrenceJob, occurrenceJobId } from '../schedules/subject/occurrence-job.js';
import type { SubjectSchedules } from '../schedules/subject/store.js';
import type { Logger } from '../telemetry/logger.js';

/** Pending runs one pass looks at again; parked schedules one look reads, and one page of them. */
const RECOVER_PER_PASS = 500;
export const UNPARK_PER_LOOK = 2000;
const UNPARK_PAGE = 200;

type Deps = { config: Config; queues: Queues; log: Logger; store: SubjectSchedules };

/** Adds again the jobs of runs still pending after the grace whose job is gone; how many. */
export async function recoverPending(d: Deps, now: number, graceMs: number): Promise<number> {
  const { prefix } = d.config;
  const conn = d.queues.conn;
  const pendingKey = schedulePendingKey(prefix);
  const members = await conn.zrangebyscore(pendingKey, '-inf', now - graceMs, 'LIMIT', 0, RECOVER_PER_PASS);
  if (members.length === 0) return 0;
  const parsed = members.map((m) => ({ member: m, id: m.slice(0, m.indexOf(':')), at: Number(m.slice(m.indexOf(':') + 1)) }));
  const defs = await d.store.definitions(parsed.map((p) => p.id));
  let recovered = 0;
  for (const [i, p] of parsed.entries()) {
    const r = defs[i];
    const kind = r ? d.config.kinds[r.def.kind] : undefined;
    if (!r) {
      // Removed before its run was added: nothing to run.
      await conn.zrem(pendingKey, p.member);
      continue;
    }
    if (!kind) {
      // A kind this producer does not know: stamped, so it goes to the back and blocks no other run.
      await conn.zadd(pendingKey, now, p.member);
      continue;
    }
    const jobId = occurrenceJobId(p.id, p.at);
    const keys = [scheduleBaseKey(prefix), queueKey(prefix, kind.queue, jobId), fairKeys(prefix, kind).specs] as const;
    if ((await scripted(conn).sjSchedRecover(...keys, p.member, String(now), String(graceMs), jobId)) !== 1) continue;
    await addOccurrences(d.queues, kind, [occurrenceJob(kind, p.id, r.def, p.at, p.at - now, versionOf(r.text))]);
    d.log.warn(
      { schedule: p.id, kind: kind.name, at: new Date(p.at).toISOString() },
      'subject schedule run added again: its producer stopped before adding it',
    );
    recovered++;
  }
  return recovered;
}

/**
 * Puts back parked schedules whose kind and trigger this producer knows, at most UNPARK_PER_LOOK of
 * the parked set from `from` on, in pages. Returns how many, and where the next look starts: past the
 * ones left here, or at the start again once the end was read, so schedules of a kind no producer
 * knows any more never hide the ones behind them for more than a few looks.
 */
export async function unpark(d: Deps, from = 0): Promise<{ n: number; next: number }> {
  const conn = d.queues.conn;
  let n = 0;
  let at = from;
  for (let read = 0; read < UNPARK_PER_LOOK; read += UNPARK_PAGE) {
    const ids = await conn.zrange(scheduleParkedKey(d.config.prefix), at, at + UNPARK_PAGE - 1);
    const back = ids.length === 0 ? [] : await known(d, ids);
    const put = back.length === 0 ? 0 : await scripted(conn).sjSchedUnpark(scheduleBaseKey(d.config.prefix), ...back);
    n += put;
    if (ids.length < UNPARK_PAGE) {
      at = 0;
      break;
    }
    at += ids.length - put;
  }
  if (n > 0) d.log.info({ schedules: n }, 'subject schedules set aside for a kind or trigger unknown then are due again');
  return { n, next: at };
}

/** The ids among `ids` whose kind and trigger this producer knows. */
async function known(d: Deps, ids: string[]): Promise<string[]> {
  const defs = await d.store.definitions(ids);
  return ids.filter((_, i) => {
    const def = defs[i]?.def;
    if (!def || !d.config.kinds[def.kind]) return false;
    try {
      triggerOf(def);
      return true;
    } catch {
      return false;
    }
  });
}
