/**
 * `spotter-jobs forget <kind>`: removes what a kind left behind once it is gone from the catalog: its
 * queue with every job in it (BullMQ's obliterate), its dead letters, its tick records, its pause
 * flag, its users' history and, for a fair kind, the jobs still waiting for admission. Refused for a
 * kind still in the catalog, and while a worker still consumes the queue.
 */

import { BUILTIN_KINDS, KIND_NAME, RESERVED_QUEUES } from '../config/catalog.js';
import type { Config } from '../config/config.js';
import { dropFairKind } from '../jobs/fair-forget.js';
import type { Queues } from '../jobs/queues.js';
import { kindByNameOrQueue } from '../jobs/registry.js';
import { fanoutScheduleKey, queueKey, tickKey } from '../redis/keys.js';
import { forgetKnownQueue, knownQueues } from '../schedules/known-queues.js';
import { resumeSchedule } from '../schedules/pause.js';
import { DeadLetters } from '../services/dead-letters/index.js';
import { dropHistory } from '../services/user-history.js';
import { JOB_STATES } from './job-states.js';
import { deadLettersBySource } from './orphans.js';

/** Why nothing was removed; the message says it to the operator. */
export class ForgetRefused extends Error {
  override name = 'ForgetRefused';
}

export interface Forgotten {
  kind: string;
  queue: string;
  /** Jobs the queue held, all states, and a fair kind's jobs still waiting for admission. */
  jobs: number;
  deadLetters: number;
}

/** The queue and kind name `name` stands for: a queue's name, or a kind's (Spotter's write-back has a queue of another name). */
function resolve(name: string): { kind: string; queue: string } {
  const builtin = Object.entries(BUILTIN_KINDS).find(([k, d]) => k === name || d.queue === name);
  if (builtin) return { kind: builtin[0], queue: builtin[1].queue ?? builtin[0] };
  return { kind: name, queue: name };
}

export async function forgetKind(queues: Queues, config: Config, name: string): Promise<Forgotten> {
  if ((RESERVED_QUEUES as readonly string[]).includes(name)) throw new ForgetRefused(`"${name}" is the service's own queue, not a kind's`);
  if (!KIND_NAME.test(name)) throw new ForgetRefused(`"${name.slice(0, 80)}" is not a kind or queue name (a-z, 0-9 and -)`);
  const live = kindByNameOrQueue(config, name);
  if (live) throw new ForgetRefused(`${live.name} is a kind of the catalog (queue ${live.queue}): remove it from the catalog first`);
  const { kind, queue } = resolve(name);
  const q = queues.get(queue);
  const [known, meta, dead] = await Promise.all([
    knownQueues(queues.conn, queues.prefix),
    queues.conn.exists(queueKey(queues.prefix, queue, 'meta')),
    deadLettersBySource(queues),
  ]);
  const deadLetters = dead.get(queue) ?? 0;
  if (!known.includes(queue) && !meta && deadLetters === 0) throw new ForgetRefused(`nothing to forget: no queue "${queue}" in Redis`);
  // A worker of an older deployment may still run the kind: removing its queue under it loses work.
  const workers = await q.getWorkersCount().catch(() => 0);
  if (workers > 0) throw new ForgetRefused(`${workers} worker(s) still consume queue "${queue}": stop them first`);
  const counts = await q.getJobCounts(...JOB_STATES);
  await new DeadLetters(queues, config).purge({ queue });
  await q.obliterate({ force: true });
  // A fair kind's jobs still waiting for admission, and its admission's keys, go with it.
  const backlog = await dropFairKind(queues.conn, queues.prefix, kind, queue);
  const jobs = Object.values(counts).reduce((a, b) => a + b, 0) + backlog;
  // Its listing position too: a kind added again under the name starts its listing from the start.
  await queues.conn.del(
    tickKey(queues.prefix, kind, 'last'),
    tickKey(queues.prefix, kind, 'history'),
    fanoutScheduleKey(queues.prefix, kind),
  );
  // Its users' history: a kind added again under the name starts with none.
  await dropHistory(queues.conn, queues.prefix, kind);
  await resumeSchedule(queues.conn, queues.prefix, kind);
  await forgetKnownQueue(queues.conn, queues.prefix, queue);
  return { kind, queue, jobs, deadLetters };
}
