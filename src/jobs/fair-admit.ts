/**
 * The second half of a refill: the jobs the refill script handed out go into the kind's queue, and
 * are acknowledged, in transactions of a few dozen each. A process killed before a transaction reaches
 * Redis adds none of its jobs and acknowledges none, so the refill script admits them again after the
 * grace; a transaction that ran acknowledged every job it added. Redis does not roll back a
 * transaction whose command failed as it ran: an add that failed leaves its job admitting, and an
 * acknowledgement that failed is sent again at once, outside the transaction. Nothing is lost,
 * nothing is added twice.
 */
import { Job, type JobsOptions, type Queue } from 'bullmq';
import type { KindConfig } from '../config/kind-config.js';
import type { Scripted } from '../redis/commands.js';
import type { RedisClient } from '../redis/connection.js';
import { isNoScript, reloadScripts } from '../redis/script-reload.js';
import type { FairKeys } from './fair-keys.js';
import { coalescing, jobOptions } from './queues.js';
import { JOB_NAMES, type JobData } from './registry.js';

/** A job the refill script handed out: its id and its spec as filed (fair-add.lua). */
export interface Admitted {
  id: string;
  spec: string;
}

/**
 * What a job of a fair kind is filed with: its data, when it was added (the job's timestamp in the
 * queue), when it is due when added with a delay, and for a user job whether it coalesces per user
 * (`c`: 1 as fan-out's jobs do, 0 for a subject schedule's run). A user job's spec without `c` was
 * filed by an earlier version, whose user jobs all coalesced.
 */
export interface Spec {
  t: number;
  d: JobData;
  a?: number;
  c?: 0 | 1;
}

/** Whether the job is added with its user's coalescing (the same rule as fair-add.lua and fair-ack.lua). */
export function coalesces(spec: Spec): spec is Spec & { d: { userId: string } } {
  return 'userId' in spec.d && typeof spec.d.userId === 'string' && spec.c !== 0;
}

type Transaction = { exec(): Promise<Array<[Error | null, unknown]> | null> } & Pick<Scripted, 'sjFairAck'>;
/** BullMQ's client for the queue (the service's scripts are defined on the connection behind it). */
type Client = { multi(): Transaction } & Pick<Scripted, 'sjFairAck'> & RedisClient;

/** The options a filed job is added with: the kind's, its own id and time, and a user job's coalescing. */
function admittedOptions(kind: KindConfig, id: string, spec: Spec, draining: boolean): JobsOptions {
  const opts: JobsOptions = { ...jobOptions(kind), jobId: id, timestamp: spec.t };
  // Only a kind no longer fair moves jobs before they are due (fair-admission.ts drain): as delayed,
  // due when they were (BullMQ makes a job due at its timestamp plus its delay).
  if (draining && spec.a !== undefined) opts.delay = Math.max(0, spec.a - spec.t);
  // As fan-out adds a user's job: merged into the one that has not started, kept for after a running one.
  if (coalesces(spec)) Object.assign(opts, coalescing(spec.d.userId));
  return opts;
}

/**
 * Most jobs added by one transaction. Redis runs a transaction in one go, about 45 µs per BullMQ add
 * on a small machine, and every worker's commands wait behind it (BullMQ's own addBulk is a pipeline,
 * which Redis interleaves with other clients): 50 keep the wait near 2 ms. See docs/fair-share.md
 * for what one transaction per refill cost a no-op kind.
 */
export const MOST_ADDS_PER_TRANSACTION = 50;

/**
 * Adds the jobs to the queue and acknowledges them, in transactions of at most
 * MOST_ADDS_PER_TRANSACTION sent together, each all or nothing. Returns the ids the queue did not
 * take (left admitting, tried again after the grace), and why when a transaction failed; throws when
 * all did. `draining`: the kind is no longer fair, and jobs not due yet go in delayed.
 */
export async function addAdmitted(
  queue: Queue,
  kind: KindConfig,
  keys: FairKeys,
  jobs: readonly Admitted[],
  draining = false,
): Promise<{ refused: string[]; error?: string }> {
  if (jobs.length === 0) return { refused: [] };
  const client = (await queue.backend.client) as unknown as Client;
  const chunks: Array<readonly Admitted[]> = [];
  for (let i = 0; i < jobs.length; i += MOST_ADDS_PER_TRANSACTION) chunks.push(jobs.slice(i, i + MOST_ADDS_PER_TRANSACTION));
  // Every transaction settled before this returns: one that failed (its jobs left admitting, as
  // refused) does not hide those that went in, nor leave them in flight past a close.
  const settled = await Promise.allSettled(chunks.map((c) => addInOne(client, queue, kind, keys, c, draining)));
  const errors = settled.flatMap((r) => (r.status === 'rejected' ? [withReason(r.reason)] : r.value.errors));
  let error = errors[0]?.message;
  // The jobs stay admitting either way; with the scripts loaded again, their next try can succeed
  // (a load that fails too is tried again by that next try).
  if (errors.some(isNoScript)) {
    await reloadScripts(client).catch((err: Error) => {
      error = `${error}; loading the scripts again failed too: ${err.message}`;
    });
  }
  if (settled.every((r) => r.status === 'rejected')) throw new Error(error);
  const refused = settled.flatMap((r, i) => (r.status === 'fulfilled' ? r.value.refused : (chunks[i] ?? []).map((j) => j.id)));
  return error === undefined ? { refused } : { refused, error };
}

/**
 * A discarded transaction's own reason: Redis answers EXEC with EXECABORT when it refused a command
 * as it was queued (out of memory, say), and ioredis keeps that refusal beside it.
 */
function withReason(err: unknown): Error {
  if (!(err instanceof Error)) return new Error(String(err));
  const first = (err as { previousErrors?: unknown[] }).previousErrors?.find((e) => e instanceof Error);
  return first instanceof Error ? new Error(`${first.message} (the transaction was discarded)`) : err;
}

/**
 * One transaction: the jobs' adds, then their acknowledgement; the ids the queue did not take, and
 * the errors Redis answered. An acknowledgement that failed as the transaction ran (NOSCRIPT, say)
 * is sent again at once on its own, where ioredis resends a script Redis lacks: the jobs it added
 * must not stay admitting, to be admitted again after they finished and went.
 */
async function addInOne(
  client: Client,
  queue: Queue,
  kind: KindConfig,
  keys: FairKeys,
  jobs: readonly Admitted[],
  draining: boolean,
): Promise<{ refused: string[]; errors: Error[] }> {
  const multi = client.multi();
  const name = JOB_NAMES[kind.scope];
  for (const { id, spec } of jobs) {
    const s = JSON.parse(spec) as Spec;
    // Queued on the transaction synchronously, as BullMQ's own bulk add does; settled by exec below.
    new Job(queue, name, s.d, admittedOptions(kind, id, s, draining), id).addJob(multi as never).catch(() => {});
  }
  const ids = jobs.map((j) => j.id);
  multi.sjFairAck(keys.specs, keys.admitting, keys.queuePrefix, ...ids);
  const results = (await multi.exec()) ?? [];
  const refused = jobs.filter((_, i) => results[i]?.[0]).map((j) => j.id);
  const errors = results.flatMap(([err]) => (err ? [err] : []));
  if (results[jobs.length]?.[0]) {
    await client.sjFairAck(keys.specs, keys.admitting, keys.queuePrefix, ...ids).catch((err: Error) => errors.push(err));
  }
  return { refused, errors };
}
