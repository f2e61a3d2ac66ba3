/**
 * Which Redis a process uses, said once at start-up: its address (password masked), its version and
 * how many keys already live under the prefix. A service that silently writes into a Redis someone
 * else was running is the first thing a newcomer trips over; this line answers "which Redis?".
 */
import { Cluster } from 'ioredis';
import { redactUrl } from '../config/secrets.js';
import type { Logger } from '../telemetry/logger.js';
import { type RedisClient, type RedisTarget, within } from './connection.js';
import { prefixPattern } from './keys.js';

/** Keys counted under the prefix before the count is reported as "over" this many. */
export const KEY_COUNT_CAP = 10_000;
/** SCAN calls per node at most: with a MATCH, a large database can return few keys per call. */
const SCAN_CALLS_CAP = 200;

export interface RedisIdentity {
  /** The address as configured, password masked. */
  redis: string;
  /** `redis_version` from INFO, or `unknown` when the server would not say in time. */
  version: string;
  /** `standalone`, `cluster` or `sentinel` (a master found through Sentinel). */
  mode: string;
  /** Keys under the prefix, counted up to KEY_COUNT_CAP; undefined when the count failed in time. */
  keys: number | undefined;
  /** True when counting stopped at a cap: there are at least `keys`. */
  capped: boolean;
}

function addressOf(target: RedisTarget): string {
  if (target.sentinels?.length) {
    return `${redactUrl(target.url)} (Sentinel master "${target.sentinelName ?? 'mymaster'}" via ${target.sentinels
      .map((s) => `${s.host}:${s.port}`)
      .join(',')})`;
  }
  return redactUrl(target.url);
}

/** Counts `prefix:*` keys with SCAN, never more than KEY_COUNT_CAP keys or SCAN_CALLS_CAP calls a node. */
async function countKeys(conn: RedisClient, prefix: string): Promise<{ keys: number; capped: boolean }> {
  const nodes = conn instanceof Cluster ? conn.nodes('master') : [conn];
  let keys = 0;
  for (const node of nodes) {
    let cursor = '0';
    let calls = 0;
    do {
      const [next, found] = await node.scan(cursor, 'MATCH', prefixPattern(prefix), 'COUNT', 1000);
      cursor = next;
      keys += found.length;
      if (keys >= KEY_COUNT_CAP) return { keys: KEY_COUNT_CAP, capped: true };
      if (++calls >= SCAN_CALLS_CAP && cursor !== '0') return { keys, capped: true };
    } while (cursor !== '0');
  }
  return { keys, capped: false };
}

export async function identify(conn: RedisClient, target: RedisTarget, prefix: string, timeoutMs = 3000): Promise<RedisIdentity> {
  const node = conn instanceof Cluster ? conn.nodes('master')[0] : conn;
  const info = await within(timeoutMs, async () => (node ? node.info('server') : '')).catch(() => '');
  const version = /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown';
  const mode = target.sentinels?.length ? 'sentinel' : conn instanceof Cluster ? 'cluster' : 'standalone';
  const counted = await within(timeoutMs, () => countKeys(conn, prefix)).catch(() => ({ keys: undefined, capped: true }));
  return { redis: addressOf(target), version, mode, ...counted };
}

/** How many keys, as a person reads it: `332`, `over 10000`, `at least 812`, or `an unknown number of`. */
export function keysText(id: Pick<RedisIdentity, 'keys' | 'capped'>): string {
  if (id.keys === undefined) return 'an unknown number of';
  if (!id.capped) return String(id.keys);
  return id.keys >= KEY_COUNT_CAP ? `over ${KEY_COUNT_CAP}` : `at least ${id.keys}`;
}

/** The one start-up line: `using Redis redis://… (7.2.4, standalone): 332 keys under prefix "spotter"`. */
export async function logRedisIdentity(log: Logger, conn: RedisClient, target: RedisTarget, prefix: string): Promise<void> {
  const id = await identify(conn, target, prefix);
  const keys = keysText(id);
  log.info(
    { redis: id.redis, redisVersion: id.version, redisMode: id.mode, prefix, keysUnderPrefix: keys },
    `using Redis ${id.redis} (${id.version}, ${id.mode}): ${keys} keys under prefix "${prefix}"`,
  );
}
