/**
 * Every work queue the producers have known under this prefix, kept in one Redis set, so the queues
 * of kinds since removed from the catalog can be found without scanning the keyspace on every
 * `status`: each producer adds its catalog's queues when it records the catalog, and scans once at
 * start-up for queues that were there before the set was (BullMQ gives every queue a `meta` hash).
 */
import { Cluster } from 'ioredis';
import { RESERVED_QUEUES } from '../config/catalog.js';
import type { RedisClient } from '../redis/connection.js';
import { knownQueuesKey, queueMetaPattern } from '../redis/keys.js';

/** Keys looked at per SCAN call of the start-up scan. */
const SCAN_COUNT = 1000;

export async function rememberQueues(conn: RedisClient, prefix: string, queues: readonly string[]): Promise<void> {
  if (queues.length > 0) await conn.sadd(knownQueuesKey(prefix), ...queues);
}

export async function knownQueues(conn: RedisClient, prefix: string): Promise<string[]> {
  return (await conn.smembers(knownQueuesKey(prefix))).sort();
}

export async function forgetKnownQueue(conn: RedisClient, prefix: string, queue: string): Promise<void> {
  await conn.srem(knownQueuesKey(prefix), queue);
}

/**
 * Adds every queue that has keys under the prefix to the set; returns how many it found. One pass
 * over the keyspace (on a cluster, over every master), SCAN_COUNT keys a call.
 */
export async function discoverQueues(conn: RedisClient, prefix: string): Promise<number> {
  const nodes = conn instanceof Cluster ? conn.nodes('master') : [conn];
  const found = new Set<string>();
  const head = `${prefix}:`;
  for (const node of nodes) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', queueMetaPattern(prefix), 'COUNT', SCAN_COUNT);
      cursor = next;
      for (const k of keys) {
        const name = k.slice(head.length, -':meta'.length);
        // Queue names hold no ':'; this prefix's own records (spotter-jobs:…) are no queue.
        if (name && !name.includes(':') && !(RESERVED_QUEUES as readonly string[]).includes(name)) found.add(name);
      }
    } while (cursor !== '0');
  }
  await rememberQueues(conn, prefix, [...found]);
  return found.size;
}
