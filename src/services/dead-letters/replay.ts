/**
 * Replaying dead letters: each goes back on its source queue with fresh attempts, unless its job was
 * retried since (it is then retired) or its kind left the catalog (nothing would consume it).
 */
import type { Job, JobsOptions, Queue } from 'bullmq';
import type { Config } from '../../config/config.js';
import { fairOf } from '../../jobs/fair-admission.js';
import type { Queues } from '../../jobs/queues.js';
import { coalescing, jobOptions } from '../../jobs/queues.js';
import { type DeadLetterData, type JobData, kindByQueue, replayJobId, tickOf } from '../../jobs/registry.js';
import { recordReplayed } from '../../schedules/tick-jobs.js';
import { entries, removeQuietly } from './entry.js';

export interface Replayed {
  /** Ids of the jobs added back. */
  replayed: string[];
  missing: string[];
  /** Dead letters retired without a replay: their jobs were retried since. */
  settled: string[];
  /** Refused: their kind is gone from the catalog, so nothing would consume the replay. */
  orphaned: Array<{ id: string; queue: string }>;
}

export type ReplaySelection = { ids?: string[]; queue?: string; all?: boolean };

/**
 * Puts dead letters back on their source queue with fresh attempts. Order matters for "nothing
 * lost": the new job is added first (deterministic id, so a crash and a second replay add it once),
 * then the failed original and the dead letter are removed.
 */
export async function replay(queues: Queues, config: Config, dlq: Queue, sel: ReplaySelection): Promise<Replayed> {
  const out: Replayed = { replayed: [], missing: [], settled: [], orphaned: [] };
  if (sel.ids) {
    for (const id of sel.ids) {
      const entry = await dlq.getJob(id);
      if (entry) await replayOne(queues, config, entry, out);
      else out.missing.push(id);
    }
  } else if (sel.all || sel.queue) {
    for await (const entry of entries(dlq, (d) => !sel.queue || d.sourceQueue === sel.queue)) await replayOne(queues, config, entry, out);
  }
  return out;
}

async function replayOne(queues: Queues, config: Config, entry: Job, out: Replayed): Promise<void> {
  const d = entry.data as DeadLetterData;
  const kind = kindByQueue(config, d.sourceQueue);
  if (!kind) {
    // Its kind is gone from the catalog: nothing consumes that queue, so a replay would go nowhere.
    out.orphaned.push({ id: String(entry.id), queue: d.sourceQueue });
    return;
  }
  const source = queues.get(d.sourceQueue);
  const original = await source.getJob(d.sourceJobId);
  const state = original ? await original.getState() : undefined;
  if (state !== undefined && state !== 'failed' && state !== 'unknown') {
    // Retried since (on the board, say) and waiting, running or done: replaying would run it twice.
    await removeQuietly(entry);
    out.settled.push(entry.id as string);
    return;
  }
  const newId = replayJobId(d.sourceJobId);
  const userId = (d.data as { userId?: unknown } | null)?.userId;
  // The same per-user guarantee as fan-out: merged into the user's job that has not started yet,
  // kept for after the one that is running.
  const coalesce = typeof userId === 'string';
  // A subject schedule's run replayed is asked for by hand: it runs as a plain job, not as the run
  // (whose first job already started, so the run's start check would take it for a duplicate).
  const { schedule: _run, sv: _version, ...data } = (d.data ?? {}) as Record<string, unknown>;
  const jobData = d.data && typeof d.data === 'object' ? data : d.data;
  // A fair kind's replay passes admission like any of its jobs: a replayed flood starves no one.
  if (kind.fair) await fairOf(queues).add(kind, newId, jobData as JobData, coalesce);
  else {
    const opts: JobsOptions = { ...jobOptions(kind), jobId: newId, ...(coalesce ? coalescing(userId) : {}) };
    await source.add(d.name, jobData, opts);
  }
  await removeQuietly(original);
  await removeQuietly(entry);
  const tick = tickOf(kind.name, d.sourceJobId, (d.data ?? {}) as Parameters<typeof tickOf>[2]);
  if (tick) await recordReplayed(queues.conn, config.prefix, kind.name, tick);
  out.replayed.push(newId);
}
