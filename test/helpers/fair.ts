/** In-process fair admission for tests: item kinds of a catalog, jobs added per owner, starts recorded. */
import { builtinCatalog } from '../../src/config/catalog-source.js';
import type { Declarations, KindConfig } from '../../src/config/kind-config.js';
import type { AnyHandler, HandlerContext } from '../../src/handlers/types.js';
import { addJob } from '../../src/jobs/add-job.js';
import { fairOf } from '../../src/jobs/fair-admission.js';
import { fairKeys } from '../../src/jobs/fair-keys.js';
import { kindByName, kindsOf } from '../../src/jobs/registry.js';
import { trigger } from '../../src/ops/trigger.js';
import { type Harness, harness } from './harness.js';

/** The built-in kinds and item kinds by name, each with its declaration's extra fields. */
export function itemCatalog(kinds: Record<string, Record<string, unknown>>): Declarations {
  const out: Declarations = { ...builtinCatalog() };
  for (const [name, extra] of Object.entries(kinds)) out[name] = { decl: { scope: 'item', ...extra }, source: 'test' };
  return out;
}

/** Adds `n` item jobs of `owner` to `kind`, ids `<owner>-<i>`, one after another as a handler would. */
export async function addOwned(h: Harness, kind: string, owner: string, n: number, from = 0): Promise<string[]> {
  const k = kindByName(h.config, kind);
  if (!k) throw new Error(`no kind ${kind}`);
  const ids: string[] = [];
  for (let i = from; i < from + n; i++) {
    ids.push(
      await addJob(h.queues, {
        kind: k,
        subject: { id: `${owner}-${i}`, data: {}, owner },
        jobId: `${owner}__${i}`,
        scheduledFor: Date.now(),
      }),
    );
  }
  return ids;
}

export interface Start {
  owner: string | undefined;
  id: string;
  /** Jobs of the kind running in this process when it started, itself included. */
  running: number;
  /** What `probe` answered as it started, when there is one. */
  probed?: number;
}

/** A handler that records each start (in order) and each end, and takes `ms`. */
export function recorder(
  ms: number,
  probe?: () => Promise<number>,
): { run: AnyHandler; starts: Start[]; ends: string[]; runningByOwner: Map<string, number>; maxByOwner: Map<string, number> } {
  const starts: Start[] = [];
  const ends: string[] = [];
  const runningByOwner = new Map<string, number>();
  const maxByOwner = new Map<string, number>();
  let running = 0;
  const run = async (item: { id: string }, ctx: HandlerContext) => {
    running++;
    const owner = ctx.owner ?? '*';
    const mine = (runningByOwner.get(owner) ?? 0) + 1;
    runningByOwner.set(owner, mine);
    maxByOwner.set(owner, Math.max(maxByOwner.get(owner) ?? 0, mine));
    const start: Start = { owner: ctx.owner, id: item.id, running };
    starts.push(start);
    try {
      if (probe) start.probed = await probe();
      await new Promise((r) => setTimeout(r, ms));
    } finally {
      running--;
      runningByOwner.set(owner, (runningByOwner.get(owner) ?? 1) - 1);
      ends.push(item.id);
    }
    return null;
  };
  return { run: run as AnyHandler, starts, ends, runningByOwner, maxByOwner };
}

/** How many of `big`'s jobs started after the first `from` starts and before `small`'s last start. */
export function startsAhead(starts: readonly Start[], from: number, small: string, big: string): number {
  const lastSmall = starts.findLastIndex((s) => s.owner === small);
  return starts.slice(from, lastSmall).filter((s) => s.owner === big).length;
}

/** The fair kinds of a harness's catalog, as the weight functions take them. */
export const fairKinds = (h: Harness) => kindsOf(h.config).filter((k) => k.fair);

/**
 * A fair user kind's job BullMQ merges at admission: with the window (2) full of u0's and u9's jobs,
 * u1's manual job waits in the backlog while the tick's fan-out adds u1's job straight to the queue;
 * places open (the others' jobs removed), and the refill admits the manual job into the tick's.
 * Returns the manual job's id.
 */
export async function mergedAtAdmission(h: Harness, sync: KindConfig): Promise<string> {
  const q = h.queues.get('sync');
  await trigger(h.queues, h.config, sync, { userId: 'u0' });
  await trigger(h.queues, h.config, sync, { userId: 'u9' });
  await fairOf(h.queues).settle(sync);
  const manual = await trigger(h.queues, h.config, sync, { userId: 'u1' });
  await q.add(
    'user',
    { userId: 'u1', scheduledFor: Date.now() },
    { jobId: 'tick__u1', deduplication: { id: 'u1', keepLastIfActive: true } },
  );
  for (const j of await q.getWaiting()) if (j.id !== 'tick__u1') await j.remove();
  await fairOf(h.queues).settle(sync);
  return manual.jobId;
}

/** A harness with one fair item kind, `track`, at concurrency 1 under an owner cap; its fair keys. */
export async function cappedTrack(ownerConcurrency: number) {
  const h = await harness({}, { catalog: itemCatalog({ track: { concurrency: 1, ownerConcurrency } }) });
  const kind = kindByName(h.config, 'track');
  if (!kind) throw new Error('no track');
  return { h, kind, k: fairKeys(h.prefix, kind) };
}
