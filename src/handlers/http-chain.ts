/**
 * The jobs a 2xx answer chains: `{"enqueue":[{"kind":"download","id":"t1","data":{…}}, {"kind":"enrichment","userId":"42"}]}`.
 * An item or global entry may name its `owner`; without one it is the answered job's, as with `ctx.enqueue`.
 * A list that cannot be added whole fails the job for good, naming the first bad entry, before any
 * entry is added: work an answer asked for is never dropped quietly, nor added in part.
 */
import { z } from 'zod';
import { MAX_TIMER_MS } from '../config/fields.js';
import type { KindConfig } from '../config/kind-config.js';
import { jobData } from '../jobs/add-job.js';
import { InvalidJobError, PermanentError } from '../jobs/errors.js';
import type { Subject } from '../jobs/subject.js';

/** Entries one answer may chain. */
export const MAX_CHAINED = 10_000;

const entry = z.strictObject({
  kind: z.string().min(1),
  userId: z.string().optional(),
  id: z.string().optional(),
  data: z.unknown().optional(),
  owner: z.string().optional(),
  delay: z.number().int().nonnegative().max(MAX_TIMER_MS).optional(),
});

export interface Chained {
  kind: string;
  subject: Subject;
  delay: number | undefined;
}

/** The answer's `enqueue` entries, or none when it has no `enqueue`; throws PermanentError naming a bad entry. */
export function chainedWork(answer: unknown): Chained[] {
  if (answer === null || typeof answer !== 'object' || !Object.hasOwn(answer, 'enqueue')) return [];
  const list = (answer as { enqueue: unknown }).enqueue;
  if (!Array.isArray(list)) throw new PermanentError(`its enqueue is ${list === null ? 'null' : typeof list}, not a list`);
  if (list.length > MAX_CHAINED) throw new PermanentError(`its enqueue has ${list.length} entries; at most ${MAX_CHAINED}`);
  return list.map((raw: unknown, i) => {
    const r = entry.safeParse(raw);
    if (!r.success) {
      const issue = r.error.issues[0];
      const field = issue?.path.length ? `.${issue.path.join('.')}` : '';
      throw new PermanentError(`enqueue[${i}]${field}: ${issue?.message ?? 'not a job'} in ${JSON.stringify(raw)?.slice(0, 200)}`);
    }
    const { kind, delay, ...subject } = r.data;
    return { kind, subject: subject as Subject, delay };
  });
}

/**
 * Checks every entry as `ctx.enqueue` will (the kind exists and `from` may add it, the subject fits
 * its scope and schema, the chain is not too deep), so a bad entry is found before the first is added.
 */
export function checkChained(from: KindConfig, kinds: readonly KindConfig[], depth: number, chain: readonly Chained[]): void {
  for (const [i, c] of chain.entries()) {
    const refuse = (why: string): never => {
      throw new InvalidJobError(`enqueue[${i}]: ${why}`);
    };
    const target = kinds.find((k) => k.name === c.kind);
    if (!target) refuse(`no kind "${c.kind}" in the catalog`);
    else if (from.followUps && !from.followUps.includes(c.kind)) {
      refuse(
        `${from.name} may not add ${c.kind}: its followUps are ${from.followUps.join(', ') || 'none'} (SPOTTER_JOBS_${from.envStem}_FOLLOW_UPS)`,
      );
    } else {
      try {
        jobData(target, c.subject, { scheduledFor: 0, depth: depth + 1 });
      } catch (err) {
        refuse((err as Error).message);
      }
    }
  }
}
