/** `dlq list`, `dlq replay` and `dlq purge`: the dead-letter queue from the command line. */

import type { Config } from '../config/config.js';
import { DURATION_FORM, parseDuration } from '../config/duration.js';
import { kindByNameOrQueue, kindByQueue, kindsOf } from '../jobs/registry.js';
import { type DeadLetter, DeadLetters } from '../services/dead-letters/index.js';
import { table, when } from './print.js';
import { type Out, UsageError, withCatalog } from './session.js';

/** `--queue`: a kind's queue, named by the queue or the kind. */
function workQueueOpt(config: Config, q: string | undefined): string | undefined {
  if (q === undefined) return undefined;
  const kind = kindByNameOrQueue(config, q);
  if (!kind)
    throw new UsageError(
      `unknown queue "${q}"; expected one of ${kindsOf(config)
        .map((k) => k.queue)
        .join(', ')}`,
    );
  return kind.queue;
}

/** The dead letter's subject, and what it is (its kind's scope; from the data for a kind that is gone). */
function subjectOf(config: Config, d: DeadLetter): { scope: string; id: string } {
  const data = (d.data ?? {}) as { userId?: unknown; id?: unknown };
  const scope =
    kindByQueue(config, d.sourceQueue)?.scope ?? (data.userId !== undefined ? 'user' : data.id !== undefined ? 'item' : 'global');
  return { scope, id: scope === 'global' ? '-' : String(scope === 'user' ? data.userId : data.id) };
}

export async function dlqList(config: Config, opts: { queue?: string; limit?: string; json?: boolean }, out: Out): Promise<void> {
  const limit = opts.limit === undefined ? 50 : Number(opts.limit);
  if (!Number.isInteger(limit) || limit < 1) throw new UsageError(`--limit "${opts.limit}" is not a whole number ≥ 1`);
  const { items, subjects } = await withCatalog(config, async (q, c) => {
    const list = await new DeadLetters(q, c).list({ queue: workQueueOpt(c, opts.queue), limit });
    return { items: list, subjects: list.map((d) => subjectOf(c, d)) };
  });
  if (opts.json) return out(JSON.stringify(items, null, 2));
  // Labelled by the kinds' scope: USER, ITEM, or SUBJECT ("user 42", "item t1") when they are mixed.
  const scopes = new Set(subjects.map((s) => s.scope).filter((s) => s !== 'global'));
  const label = scopes.size === 1 ? ([...scopes][0] as string) : 'subject';
  // Whose job each was, when an item or global job had an owner (a user job's is its user).
  const owned = items.some((d, i) => d.owner !== undefined && subjects[i]?.scope !== 'user');
  out(
    table(
      items.map((d, i) => {
        const s = subjects[i] as { scope: string; id: string };
        return {
          id: d.id,
          queue: d.sourceQueue,
          [label]: label === 'subject' && s.scope !== 'global' ? `${s.scope} ${s.id}` : s.id,
          ...(owned ? { owner: d.owner ?? '-' } : {}),
          attempts: d.attemptsMade,
          failed: when(d.failedAt),
          reason: d.failedReason.replace(/\s+/g, ' ').slice(0, 100),
        };
      }),
    ),
  );
}

export async function dlqReplay(
  config: Config,
  ids: string[],
  opts: { all?: boolean; queue?: string; json?: boolean },
  out: Out,
): Promise<void> {
  const chosen = [ids.length > 0, Boolean(opts.all), opts.queue !== undefined].filter(Boolean).length;
  if (chosen !== 1) throw new UsageError('say which dead letters to replay: --all, --queue Q, or one or more ids');
  const r = await withCatalog(config, (q, c) => {
    const queue = workQueueOpt(c, opts.queue);
    return new DeadLetters(q, c).replay(ids.length > 0 ? { ids } : { all: opts.all, queue });
  });
  if (opts.json) return out(JSON.stringify(r));
  const gone = [...new Set(r.orphaned.map((o) => o.queue))];
  out(
    `replayed ${r.replayed.length} dead letter(s)` +
      (r.settled.length ? `; ${r.settled.length} retired without a replay (their jobs were retried since)` : '') +
      (r.missing.length ? `; not found: ${r.missing.join(', ')}` : '') +
      (r.orphaned.length
        ? `; refused ${r.orphaned.length}: no kind consumes ${gone.map((g) => `"${g}"`).join(', ')} any more (the kind is gone from the catalog; spotter-jobs forget ${gone[0]} --yes removes its queue and dead letters)`
        : ''),
  );
  if (r.replayed.length === 0 && r.settled.length === 0) {
    if (r.orphaned.length > 0) throw new UsageError(`not replayed: the kind of ${gone.map((g) => `"${g}"`).join(', ')} is gone`);
    if (r.missing.length > 0) throw new UsageError('no such dead letter');
  }
}

export async function dlqPurge(config: Config, opts: { queue?: string; olderThan?: string; json?: boolean }, out: Out): Promise<void> {
  let olderThanMs: number | undefined;
  if (opts.olderThan !== undefined) {
    olderThanMs = parseDuration(opts.olderThan);
    if (olderThanMs === undefined) throw new UsageError(`--older-than "${opts.olderThan}" is not ${DURATION_FORM}`);
  }
  const n = await withCatalog(config, (q, c) => new DeadLetters(q, c).purge({ queue: workQueueOpt(c, opts.queue), olderThanMs }));
  if (opts.json) return out(JSON.stringify({ purged: n }));
  out(`purged ${n} dead letter(s)`);
}
