/**
 * Owners' weights in fair admission: an owner of weight 2 gets twice the starts of an owner of
 * weight 1 while both have work. Kept in Redis (ownerWeightsKey), set at run time by the `owner
 * weight` command or the API, read by every refill; an owner without one weighs 1.
 */
import type { KindConfig } from '../config/kind-config.js';
import { scripted } from '../redis/commands.js';
import type { RedisClient } from '../redis/connection.js';
import { ownerWeightsKey } from '../redis/keys.js';
import { InvalidJobError } from './errors.js';
import { fairKeys } from './fair-keys.js';
import { NO_OWNER } from './owner.js';
import { badSubjectId } from './registry.js';

/** The weights an owner may have: 1/100 to 10,000 of the default. */
export const WEIGHT_RANGE = { min: 0.01, max: 10_000 } as const;

/** Checks an owner id as weights and the owner view take it: a user id, or NO_OWNER for jobs without an owner. */
export function checkOwner(owner: string): string {
  const problem = owner === NO_OWNER ? undefined : badSubjectId('an owner id', owner);
  if (problem) throw new InvalidJobError(`${problem} (or give ${NO_OWNER} for jobs without an owner)`);
  return owner;
}

/**
 * Sets an owner's weight; 1 removes the entry (the default). A changed weight puts the owner at the
 * virtual clock of each of `fairKinds` (the catalog's fair kinds), in one script with the set, so the
 * next refill orders it by the new weight rather than by the place the old one gave it.
 */
export async function setOwnerWeight(
  conn: RedisClient,
  prefix: string,
  owner: string,
  weight: number,
  fairKinds: ReadonlyArray<Pick<KindConfig, 'name' | 'queue'>>,
): Promise<void> {
  checkOwner(owner);
  if (!Number.isFinite(weight) || weight < WEIGHT_RANGE.min || weight > WEIGHT_RANGE.max)
    throw new InvalidJobError(`weight ${weight} is not a number from ${WEIGHT_RANGE.min} to ${WEIGHT_RANGE.max}`);
  const keys = [ownerWeightsKey(prefix)];
  for (const kind of fairKinds) {
    const k = fairKeys(prefix, kind);
    keys.push(k.owners, k.parked, k.clock, k.finish);
  }
  await scripted(conn).sjFairReweigh(keys.length, ...keys, owner, String(weight));
}

/** An owner's weight (1 unless set). */
export async function ownerWeight(conn: RedisClient, prefix: string, owner: string): Promise<number> {
  const w = Number(await conn.hget(ownerWeightsKey(prefix), owner));
  return Number.isFinite(w) && w > 0 ? w : 1;
}
