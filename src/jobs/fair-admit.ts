/**
 * The second half of a refill: the jobs the refill script handed out go into the kind's queue, and
 * are acknowledged, in transactions of a few dozen each. A process killed before a transaction reaches
 * Redis adds none of its jobs and acknowledges none, so the refill script admits them again after the
 * grace; a transaction that ran acknowledged every job it added. Redis does not roll back a
 * transaction whose command failed as it ran: an add that failed leaves its job admitting, and when
 * the acknowledgement failed, the jobs the adds' replies say went in are acknowledged at once by a
 * second transaction of plain commands. Nothing is lost; a job is admitted twice only when that second
 * step fails too (or its process dies between the two) and the job finishes and is removed within
 * the grace, which is reported.
 */
import { Job, type JobsOptions, type Queue } from 'bullmq';
import type { KindConfig } from '../config/kind-config.js';
import type { Scripted } from '../redis/commands.js';
import type { RedisClient } from '../redis/connection.js';
import { isNoScript, reloadScripts } from '../redis/script-reload.js';
import type { FairKeys } from './fair-keys.js';
import { coalescing, jobOptions } from './queues.js';
import { JOB_NAMES, type JobData } from './registry.js';

/**
 * What became of a refill's jobs: those the queue refused (left admitting, admitted again after the
 * grace), those it took but that could not be acknowledged (left admitting: one that finishes and is
 * removed within the grace is admitted again), and the first error Redis answered on the way.
 */
export interface Admission {
  refused: string[];
  unacknowledged: string[];
  error?: string;
}

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
 * MOST_ADDS_PER_TRANSACTION sent together, each with its acknowledgement. Returns what became of them
 * (Admission); throws when every transaction was discarded. `draining`: the kind is no longer fair,
 * and jobs not due yet go in delayed.
 */
export async function addAdmitted(
  queue: Queue,
  kind: KindConfig,
  keys: FairKeys,
  jobs: readonly Admitted[],
  draining = false,
): Promise<Admission> {
  if (jobs.length === 0) return { refused: [], unacknowledged: [] };
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
  const unacknowledged = settled.flatMap((r) => (r.status === 'fulfilled' ? r.value.unacknowledged : []));
  return error === undefined ? { refused, unacknowledged } : { refused, unacknowledged, error };
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
 * One transaction: the jobs' adds, then their acknowledgement; the ids the queue did not take, those
 * it took but that could not be acknowledged, and the errors Redis answered.
 */
async function addInOne(
  client: Client,
  queue: Queue,
  kind: KindConfig,
  keys: FairKeys,
  jobs: readonly Admitted[],
  draining: boolean,
): Promise<{ refused: string[]; unacknowledged: string[]; errors: Error[] }> {
  const multi = client.multi();
  const name = JOB_NAMES[kind.scope];
  for (const { id, spec } of jobs) {
    const s = JSON.parse(spec) as Spec;
    // Queued on the transaction synchronously, as BullMQ's own bulk add does; settled by exec below.
    new Job(queue, name, s.d, admittedOptions(kind, id, s, draining), id).addJob(multi as never).catch(() => {});
  }
  const cap = String(kind.fair?.ownerConcurrency ?? 0);
  const ackKeys = [keys.specs, keys.admitting, keys.held, keys.holds, keys.owners, keys.parked, keys.clock, keys.cap];
  multi.sjFairAck(...ackKeys, keys.queuePrefix, cap, ...jobs.map((j) => j.id));
  const results = (await multi.exec()) ?? [];
  const errors = results.flatMap(([err]) => (err ? [err] : []));
  const refused: string[] = [];
  const went: string[] = [];
  // BullMQ's add answers the job's id (its own, or the user's job it was merged into), or a negative code.
  const added = (r: [Error | null, unknown] | undefined) => r !== undefined && !r[0] && !(Number(r[1]) < 0);
  for (const [i, j] of jobs.entries()) (added(results[i]) ? went : refused).push(j.id);
  if (!results[jobs.length]?.[0] || went.length === 0) return { refused, unacknowledged: [], errors };
  const acked = await acknowledge(client, keys, went).catch((err: Error) => {
    errors.push(err);
    return false;
  });
  return { refused, unacknowledged: acked ? [] : went, errors };
}

/**
 * The jobs whose adds' replies say they went in, acknowledged without the script (whose failure,
 * NOSCRIPT say, brought this here) and without looking at the queue: a job may have run and gone
 * already. Left admitting, such a job would be admitted again after the grace.
 */
async function acknowledge(client: Client, keys: FairKeys, ids: string[]): Promise<boolean> {
  const replies = await (client as RedisClient)
    .multi()
    .zrem(keys.admitting, ...ids)
    .hdel(keys.specs, ...ids)
    .exec();
  const failed = replies?.find(([err]) => err)?.[0];
  if (failed) throw failed;
  return replies !== null;
}
