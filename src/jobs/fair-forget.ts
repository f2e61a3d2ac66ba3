/**
 * What a fair kind leaves in Redis once it is gone from the catalog: its owners' backlogs and its
 * admission structures (fair-keys.ts), removed by `forget` with the kind's queue. Paged, so a kind
 * with a great many owners is removed a thousand owners at a time.
 */
import type { RedisClient } from '../redis/connection.js';
import { fairKeys } from './fair-keys.js';

const PAGE = 1000;

/** Removes the kind's backlogs and admission keys; returns how many jobs were still waiting for admission. */
export async function dropFairKind(conn: RedisClient, prefix: string, kind: string, queue: string): Promise<number> {
  const k = fairKeys(prefix, { name: kind, queue });
  const waiting = await conn.hlen(k.specs);
  for (const set of [k.sizes, k.owners, k.parked]) {
    for (;;) {
      const owners = await conn.zrange(set, 0, PAGE - 1);
      if (owners.length === 0) break;
      await conn.del(...owners.map((o) => k.backlogPrefix + o));
      await conn.zrem(set, ...owners);
    }
  }
  await conn.del(k.specs, k.clock, k.admitting, k.held, k.holds, k.cap, k.finish, k.later);
  return waiting;
}
