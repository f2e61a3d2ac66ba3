/**
 * Adding one job of a kind, for whoever adds it outside a fan-out: `ctx.enqueue` in a handler (and
 * HTTP mode's `{"enqueue":[…]}` answers), `trigger` and the API. The subject is checked against the
 * kind's scope, an item's data against the size cap and the kind's schema, so a bad job is refused
 * where it is added, with a clear error, instead of failing later in a worker.
 */
import { createHash } from 'node:crypto';
import type { JobsOptions } from 'bullmq';
import type { KindConfig } from '../config/kind-config.js';
import { InvalidJobError } from './errors.js';
import { fairOf } from './fair-admission.js';
import { coalescing, jobOptions, type Queues } from './queues.js';
import { badSubjectId, JOB_NAMES, type JobData, type ParentRef } from './registry.js';
import type { Subject } from './subject.js';

/** An item's data, as JSON, is at most this large: it lives in Redis once per job. */
export const MAX_ITEM_DATA_BYTES = 16 * 1024;
/** Longest delay a timer can honour (2^31 - 1 ms, about 24.8 days). */
const MAX_DELAY_MS = 2 ** 31 - 1;
const DAY_MS = 86_400_000;
/** The limit in days as said: 24.855 rounded down, so a delay past it (24.9 at least) never reads as equal. */
const MAX_DELAY_DAYS = (Math.floor((MAX_DELAY_MS / DAY_MS) * 10) / 10).toFixed(1);

export interface AddJob {
  kind: KindConfig;
  subject: Subject | undefined;
  jobId: string;
  scheduledFor: number;
  tick?: string;
  parent?: ParentRef;
  /** Chain depth of the job to add (one more than its parent's); absent: 0. */
  depth?: number;
  delayMs?: number;
  /** User kinds: merge into the user's job that has not started yet (as fan-out does). */
  coalesce?: boolean;
  /** Item and global kinds: the owner when the subject names none (the adding job's owner). */
  owner?: string;
}

const ID_NAMES = { userId: 'a user id', id: 'an item id', owner: 'an owner id' } as const;

/** Checks `subject` against the kind's scope and schema; returns the job's data, or throws InvalidJobError. */
export function jobData(
  kind: KindConfig,
  subject: Subject | undefined,
  rest: { scheduledFor: number; tick?: string; parent?: ParentRef; depth?: number; owner?: string },
): JobData {
  const s = (subject ?? {}) as Record<string, unknown>;
  const base = {
    scheduledFor: rest.scheduledFor,
    ...(rest.tick ? { tick: rest.tick } : {}),
    ...(rest.parent ? { parent: rest.parent } : {}),
    ...(rest.depth ? { depth: rest.depth } : {}),
  };
  const refuse = (why: string): never => {
    throw new InvalidJobError(`cannot add a ${kind.name} job: ${why}`);
  };
  // A chain (a job adding a job adding a job …) ends at the kind's depth, so kinds that add each
  // other in a cycle cannot add jobs without end.
  if (rest.depth !== undefined && rest.depth > kind.maxChainDepth) {
    refuse(
      `it would be ${rest.depth} deep in a chain of jobs adding jobs; ${kind.name} allows ${kind.maxChainDepth} (SPOTTER_JOBS_${kind.envStem}_MAX_CHAIN_DEPTH)`,
    );
  }
  // The same words as the CLI's and the API's checks, whichever way the job comes.
  const checkId = (field: 'userId' | 'id' | 'owner') => {
    const v = s[field];
    const problem =
      typeof v === 'string'
        ? badSubjectId(ID_NAMES[field], v)
        : `${field} is ${v === undefined ? 'missing' : `no string: ${JSON.stringify(v)?.slice(0, 80)}`}`;
    if (problem) refuse(problem);
    return v as string;
  };
  const only = (allowed: string[]) => {
    // `owner` is checked on its own (owned() below), so the message names the subject's fields only.
    const extra = Object.keys(s).filter((k) => k !== 'owner' && !allowed.includes(k));
    if (extra.length > 0)
      refuse(
        `a ${kind.scope} kind takes ${allowed.length ? allowed.map((a) => `"${a}"`).join(' and ') : 'no subject'}, not "${extra.join('", "')}"`,
      );
  };
  // An owner named by the subject, else the one handed down; a user job's owner is its user.
  const owned = () => {
    if (s.owner === undefined) return rest.owner !== undefined ? { owner: rest.owner } : {};
    return { owner: checkId('owner') };
  };
  switch (kind.scope) {
    case 'user':
      if (s.owner !== undefined && s.owner !== s.userId) refuse(`a user kind's job is owned by its user; "owner" is not taken`);
      only(['userId']);
      return { userId: checkId('userId'), ...base };
    case 'global':
      only([]);
      return { ...base, ...owned() };
    case 'item': {
      only(['id', 'data']);
      const id = checkId('id');
      return { id, data: itemData(kind, id, s.data, refuse), ...base, ...owned() };
    }
  }
}

/** An item's data as it will be stored: JSON, within the size cap, matching the kind's schema. */
function itemData(kind: KindConfig, id: string, raw: unknown, refuse: (why: string) => never): unknown {
  let json: string;
  try {
    json = JSON.stringify(raw === undefined ? null : raw);
  } catch (err) {
    return refuse(`data of item ${id} is not JSON (${(err as Error).message})`);
  }
  const bytes = Buffer.byteLength(json);
  if (bytes > MAX_ITEM_DATA_BYTES) refuse(`data of item ${id} is ${bytes} bytes as JSON; at most ${MAX_ITEM_DATA_BYTES}`);
  const problem = kind.checkData?.(JSON.parse(json));
  if (problem) refuse(`data of item ${id} does not match the schema: ${problem}`);
  return JSON.parse(json) as unknown;
}

/** The name each scope's jobs carry on the board. */
export function jobNameOf(kind: KindConfig): string {
  return JOB_NAMES[kind.scope];
}

/** Adds the job; resolves with the id BullMQ kept (a coalesced add returns the user's waiting job). */
export async function addJob(queues: Queues, a: AddJob): Promise<string> {
  const { kind } = a;
  const data = jobData(kind, a.subject, a);
  if (a.delayMs !== undefined && Number.isFinite(a.delayMs) && a.delayMs > MAX_DELAY_MS) {
    throw new InvalidJobError(
      `cannot add a ${kind.name} job ${(a.delayMs / DAY_MS).toFixed(1)} days ahead: a job waits at most ${MAX_DELAY_DAYS} days (2^31 - 1 ms, the longest delay spotter-jobs accepts)`,
    );
  }
  if (a.delayMs !== undefined && (!Number.isFinite(a.delayMs) || a.delayMs < 0)) {
    throw new InvalidJobError(`cannot add a ${kind.name} job: delay ${a.delayMs} is not a number of ms from 0 to ${MAX_DELAY_MS}`);
  }
  // A fair kind's job waits in its owner's backlog for admission; a delayed one waits until it is
  // due, then joins the backlog (docs/fair-share.md).
  if (kind.fair) return fairOf(queues).add(kind, a.jobId, data, a.coalesce && 'userId' in data, a.delayMs);
  const opts: JobsOptions = { ...jobOptions(kind), jobId: a.jobId, ...(a.delayMs ? { delay: Math.round(a.delayMs) } : {}) };
  if (a.coalesce && 'userId' in data) Object.assign(opts, coalescing(data.userId));
  const job = await queues.get(kind.queue).add(jobNameOf(kind), data, opts);
  return String(job.id);
}

/**
 * A child's id: its kind and subject, and a digest of the parent job, so the same parent adds the
 * same child once however often it runs, and ids stay short along a long chain.
 */
export function childJobId(parentQueue: string, parentJobId: string, kind: KindConfig, subject: Subject | undefined): string {
  const s = (subject ?? {}) as { userId?: string; id?: string };
  const who = s.userId ?? s.id ?? 'run';
  const digest = createHash('sha256').update(`${parentQueue}\0${parentJobId}`).digest('base64url').slice(0, 16).replaceAll('_', '.');
  return `${kind.name}__${who}__${digest}`;
}
