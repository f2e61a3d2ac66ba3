/**
 * Fair admission's metrics, per fair kind, read from Redis at scrape time: owners with work, jobs
 * waiting, the largest owner's backlog, and the oldest waiting job's age for TOP_OWNERS owners only
 * (those held back longest, kindBacklog's `oldest`), so the `owner` label stays bounded whatever the
 * number of users.
 */
import { Gauge, type Registry } from 'prom-client';
import type { Config } from '../config/config.js';
import { type KindBacklog, kindBacklog, withBacklog } from '../jobs/fair-backlog.js';
import type { Queues } from '../jobs/queues.js';
import { kindsOf } from '../jobs/registry.js';
import { shared } from './shared-read.js';
import { tolerant } from './tolerant.js';

/** Owners labelled per kind: those held back longest (kindBacklog's `oldest`). */
export const TOP_OWNERS = 10;

export function registerFairMetrics(registry: Registry, queues: Queues, config: Config): void {
  // Kinds not fair are read too: one no longer fair reports what it still has filed until drained.
  const kinds = kindsOf(config);
  const read = shared(() =>
    withBacklog(queues.conn, config.prefix, kinds, (k) => Boolean(k.fair)).then((fair) =>
      Promise.all(fair.map((k) => kindBacklog(queues.conn, config.prefix, k, TOP_OWNERS, true))),
    ),
  );
  const perKind = (name: string, help: string, pick: (b: KindBacklog) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ['kind'],
      registers: [registry],
      collect: tolerant(async function () {
        const all = await read();
        this.reset();
        for (const b of all) this.set({ kind: b.kind }, pick(b));
      }),
    });
  perKind('spotter_jobs_fair_owners', 'Owners with jobs waiting for admission, per fair kind', (b) => b.owners);
  perKind('spotter_jobs_fair_waiting', 'Jobs waiting for admission, all owners, per fair kind', (b) => b.waiting);
  perKind('spotter_jobs_fair_later', 'Jobs added with a delay not over yet, all owners, per fair kind', (b) => b.later);
  perKind(
    'spotter_jobs_fair_largest_backlog',
    "The largest owner's jobs waiting for admission, per fair kind",
    (b) => b.top[0]?.waiting ?? 0,
  );
  new Gauge({
    name: 'spotter_jobs_fair_oldest_waiting_seconds',
    help: `How long the oldest waiting job of each of the ${TOP_OWNERS} owners held back longest has waited (among the largest backlogs, the first and last in turn and those at their cap), per fair kind`,
    labelNames: ['kind', 'owner'],
    registers: [registry],
    collect: tolerant(async function () {
      const all = await read();
      this.reset();
      for (const b of all) for (const o of b.oldest ?? []) this.set({ kind: b.kind, owner: o.owner }, (o.oldestMs ?? 0) / 1000);
    }),
  });
}
