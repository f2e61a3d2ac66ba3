/** The Redis keys of one fair kind's admission, built once per kind (src/redis/keys.ts spells them). */
import type { KindConfig } from '../config/kind-config.js';
import { fairBacklogKey, fairKey, ownerWeightsKey, queueKey } from '../redis/keys.js';

export interface FairKeys {
  specs: string;
  owners: string;
  parked: string;
  sizes: string;
  clock: string;
  admitting: string;
  held: string;
  holds: string;
  /** The owner cap the parked set was last sorted by (fair-refill.lua). */
  cap: string;
  /** Owners' last finish tags, while above the clock (fair-refill.lua, fair-add.lua). */
  finish: string;
  /** Jobs filed with a delay, as `owner id` by due time, until a refill finds them due. */
  later: string;
  weights: string;
  /** An owner's backlog is this and the owner. */
  backlogPrefix: string;
  /** A job's hash in the kind's queue is this and its id. */
  queuePrefix: string;
  wait: string;
  paused: string;
  prioritized: string;
}

export function fairKeys(prefix: string, kind: Pick<KindConfig, 'name' | 'queue'>): FairKeys {
  const part = (p: string) => fairKey(prefix, kind.name, p);
  return {
    specs: part('specs'),
    owners: part('owners'),
    parked: part('parked'),
    sizes: part('sizes'),
    clock: part('clock'),
    admitting: part('admitting'),
    held: part('held'),
    holds: part('holds'),
    cap: part('cap'),
    finish: part('finish'),
    later: part('later'),
    weights: ownerWeightsKey(prefix),
    backlogPrefix: fairBacklogKey(prefix, kind.name, ''),
    queuePrefix: queueKey(prefix, kind.queue, ''),
    wait: queueKey(prefix, kind.queue, 'wait'),
    paused: queueKey(prefix, kind.queue, 'paused'),
    prioritized: queueKey(prefix, kind.queue, 'prioritized'),
  };
}

/** A member of the `held` and `later` sets: the owner, a space, the job id (neither holds a space). */
export function holdMember(owner: string, jobId: string): string {
  return `${owner} ${jobId}`;
}

/** The keys fair-add.lua takes, in its KEYS order, then its two key prefixes (its first ARGV). */
export function addKeys(k: FairKeys): string[] {
  return [k.specs, k.owners, k.parked, k.sizes, k.clock, k.finish, k.later, k.backlogPrefix, k.queuePrefix];
}

/** The keys fair-refill.lua takes, in its KEYS order, then its two key prefixes (its first ARGV). */
export function refillKeys(k: FairKeys): string[] {
  return [
    k.specs,
    k.owners,
    k.parked,
    k.sizes,
    k.clock,
    k.admitting,
    k.held,
    k.holds,
    k.weights,
    k.wait,
    k.paused,
    k.prioritized,
    k.cap,
    k.finish,
    k.later,
    k.backlogPrefix,
    k.queuePrefix,
  ];
}
