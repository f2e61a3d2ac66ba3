/**
 * What a fair kind's admission holds, for `status`, `user <id>`, the API and the metrics: owners
 * with work, jobs waiting per owner and how long the oldest has waited. Bounded whatever the number
 * of owners: totals come from counters, per-owner detail for a few (the largest, and those held back
 * longest among a bounded look) or one named owner.
 */
import type { KindConfig } from '../config/kind-config.js';
import type { RedisClient } from '../redis/connection.js';
import type { Spec } from './fair-admit.js';
import { fairKeys } from './fair-keys.js';

export interface OwnerBacklog {
  owner: string;
  /** Jobs of this owner waiting for admission. */
  waiting: number;
  /** How long its oldest waiting job has waited (ms), or null when none waits. */
  oldestMs: number | null;
}

export interface KindBacklog {
  kind: string;
  /** Owners with jobs waiting for admission (parked at their cap included). */
  owners: number;
  /** Jobs waiting for admission, all owners together. */
  waiting: number;
  /** Jobs handed out by a refill and not yet in the queue (a moment, unless their admitter died). */
  admitting: number;
  /** Jobs added with a delay that is not over yet: they join their owners' backlogs when due. */
  later: number;
  /** The owners with the most waiting, largest first (at most the number asked for). */
  top: OwnerBacklog[];
  /**
   * When asked for: the owners whose oldest job has waited longest, longest first (at most the
   * number asked for), among those `top` names, the first and last in turn and the first held at
   * their cap; a bounded look that keeps an owner held back with a few jobs, which `top` leaves out.
   */
  oldest?: OwnerBacklog[];
}

/** The oldest waiting job's age of each owner, from the head of its backlog. */
async function oldest(
  conn: RedisClient,
  kind: Pick<KindConfig, 'name' | 'queue'>,
  prefix: string,
  owners: string[],
): Promise<Array<number | null>> {
  const k = fairKeys(prefix, kind);
  const heads = await Promise.all(owners.map((o) => conn.lindex(k.backlogPrefix + o, 0)));
  const specs = await Promise.all(heads.map((id) => (id ? conn.hget(k.specs, id) : null)));
  const now = Date.now();
  // A job added with a delay has waited since it was due.
  return specs.map((s) => {
    if (!s) return null;
    const spec = JSON.parse(s) as Spec;
    return Math.max(0, now - (spec.a ?? spec.t));
  });
}

/**
 * A fair kind's backlog, with the `top` owners that have the most waiting, and with `oldest` (asked
 * for by the metrics) the `top` owners held back longest among a bounded look: the largest backlogs,
 * the first and the last in turn, and the first held at their cap. Owners tied in turn come in
 * Redis' order (by id), so with more than `top` tied some are not looked at.
 */
export async function kindBacklog(
  conn: RedisClient,
  prefix: string,
  kind: Pick<KindConfig, 'name' | 'queue'>,
  top = 10,
  withOldest = false,
): Promise<KindBacklog> {
  const k = fairKeys(prefix, kind);
  const none: string[] = [];
  const [owners, specs, admitting, later, largest, firstInTurn, lastInTurn, capped] = await Promise.all([
    conn.zcard(k.sizes),
    conn.hlen(k.specs),
    conn.zcard(k.admitting),
    conn.zcard(k.later),
    conn.zrevrange(k.sizes, 0, top - 1, 'WITHSCORES'),
    withOldest ? conn.zrange(k.owners, 0, top - 1) : none,
    withOldest ? conn.zrevrange(k.owners, 0, top - 1) : none,
    withOldest ? conn.zrange(k.parked, 0, top - 1) : none,
  ]);
  const names: string[] = [];
  const sizes: number[] = [];
  for (let i = 0; i + 1 < largest.length; i += 2) {
    names.push(largest[i] as string);
    sizes.push(Number(largest[i + 1]));
  }
  const more = [...new Set([...firstInTurn, ...lastInTurn, ...capped])].filter((o) => !names.includes(o));
  const [ages, moreSizes] = await Promise.all([
    oldest(conn, kind, prefix, [...names, ...more]),
    Promise.all(more.map((o) => conn.zscore(k.sizes, o))),
  ]);
  const seen: OwnerBacklog[] = [...names, ...more].map((owner, i) => ({
    owner,
    waiting: i < names.length ? (sizes[i] ?? 0) : Number(moreSizes[i - names.length] ?? 0),
    oldestMs: ages[i] ?? null,
  }));
  const held = seen.filter((o) => o.oldestMs !== null).sort((a, b) => (b.oldestMs ?? 0) - (a.oldestMs ?? 0));
  return {
    kind: kind.name,
    owners,
    waiting: Math.max(0, specs - admitting - later),
    admitting,
    later,
    top: seen.slice(0, names.length),
    ...(withOldest ? { oldest: held.slice(0, top) } : {}),
  };
}

/**
 * The kinds to report a backlog for: the fair ones, and those no longer fair that still have jobs
 * filed while they were (until a worker of the kind moves them into its queue).
 */
export async function withBacklog<K extends Pick<KindConfig, 'name' | 'queue'>>(
  conn: RedisClient,
  prefix: string,
  kinds: readonly K[],
  fair: (k: K) => boolean,
): Promise<K[]> {
  const left = await Promise.all(kinds.map((k) => (fair(k) ? 1 : conn.exists(fairKeys(prefix, k).specs))));
  return kinds.filter((_, i) => left[i] === 1);
}

/** One owner's backlog of a fair kind, with its jobs filed for later. */
export interface OwnerKindBacklog extends OwnerBacklog {
  /** Jobs of this owner added with a delay that is not over yet. */
  later: number;
  /** `later` stopped at the scan's limit (LATER_SCAN_STEPS): the owner has at least that many. */
  laterAtLeast: boolean;
}

/**
 * How far one owner's count reads a kind's `later` set. The set is by due time, not owner, so
 * counting one owner's entries scans it: at most LATER_SCAN_STEPS steps of about 1,000 entries each
 * (a short step for Redis, about 0.6 ms on a small machine), 100,000 or so in all; past that the
 * count says "at least".
 */
export const LATER_SCAN_STEPS = 100;
const LATER_PAGE = 1000;

/** How many of the owner's jobs wait in the kind's `later` set (members `<owner> <job id>`). */
async function laterOf(conn: RedisClient, key: string, owner: string, most: number): Promise<{ later: number; laterAtLeast: boolean }> {
  const match = `${owner.replace(/[*?[\]\\]/g, '\\$&')} *`;
  // A scan may return an entry twice while the set is resized: counted once.
  const seen = new Set<string>();
  let cursor = '0';
  let steps = 0;
  do {
    const [next, found] = await conn.zscan(key, cursor, 'MATCH', match, 'COUNT', LATER_PAGE);
    for (let i = 0; i < found.length; i += 2) seen.add(found[i] as string);
    cursor = next;
  } while (cursor !== '0' && ++steps < most);
  return { later: seen.size, laterAtLeast: cursor !== '0' };
}

/** One owner's backlog of a fair kind; its `later` count reads at most `steps` scan steps. */
export async function ownerBacklog(
  conn: RedisClient,
  prefix: string,
  kind: Pick<KindConfig, 'name' | 'queue'>,
  owner: string,
  steps = LATER_SCAN_STEPS,
): Promise<OwnerKindBacklog> {
  const k = fairKeys(prefix, kind);
  const [size, later] = await Promise.all([conn.zscore(k.sizes, owner), laterOf(conn, k.later, owner, steps)]);
  let waiting = Number(size ?? 0);
  const [age] = waiting > 0 ? await oldest(conn, kind, prefix, [owner]) : [null];
  // A refill may have admitted the owner's jobs between the two reads: a count whose oldest job is
  // gone is read again, rather than shown as jobs waiting with no age.
  if (waiting > 0 && age === null) waiting = Number((await conn.zscore(k.sizes, owner)) ?? 0);
  return { owner, waiting, oldestMs: age ?? null, ...later };
}
