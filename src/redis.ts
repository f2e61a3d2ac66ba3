/**
 * Redis connections. Two factories, as BullMQ's production guide advises: commands issued on behalf
 * of a user request fail fast, while long-lived consumers wait and reconnect for as long as it takes.
 */
import { Redis, type RedisOptions } from 'ioredis';
import { redactUrl } from './config.js';
import type { Logger } from './logger.js';

/** Connection for workers and the producer's consumers: retries forever, never gives up a command. */
export function waitingConnection(url: string, name: string): Redis {
  return new Redis(url, {
    connectionName: name,
    maxRetriesPerRequest: null,
    enableReadyCheck: true,
    // Reconnect quickly at first, then at most every 5 s: recovery time after an outage stays short
    // without hammering a Redis that is restarting.
    retryStrategy: (times) => Math.min(100 * 2 ** Math.min(times, 6), 5000),
  } satisfies RedisOptions);
}

/** Connection for short-lived commands (CLI, API): errors at once instead of queueing while Redis is down. */
export function failFastConnection(url: string, name: string): Redis {
  return new Redis(url, {
    connectionName: name,
    maxRetriesPerRequest: 1,
    enableOfflineQueue: true,
    connectTimeout: 3000,
    retryStrategy: (times) => (times > 2 ? null : 200),
  } satisfies RedisOptions);
}

export class RedisUnavailableError extends Error {
  override name = 'RedisUnavailableError';
}

/**
 * Checks that Redis answers within `timeoutMs`; used by producers and the CLI at start-up so they fail
 * fast with a message naming the address (password masked) instead of hanging.
 */
export async function assertReachable(url: string, timeoutMs = 3000): Promise<void> {
  const probe = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
  });
  probe.on('error', () => {});
  try {
    await probe.connect();
    await probe.ping();
  } catch (err) {
    throw new RedisUnavailableError(
      `Redis at ${redactUrl(url)} is not reachable (${(err as Error).message}). Start Redis or set REDIS_URL.`,
    );
  } finally {
    probe.disconnect();
  }
}

/** True when something answers PING at `url` within `timeoutMs`. */
export async function answers(url: string, timeoutMs = 1000): Promise<boolean> {
  try {
    await assertReachable(url, timeoutMs);
    return true;
  } catch {
    return false;
  }
}

/**
 * BullMQ keeps its data only if Redis never evicts keys; anything but `noeviction` can silently drop
 * jobs under memory pressure. Returns the policy so readiness can report it too.
 */
export async function checkEvictionPolicy(conn: Redis, log: Logger): Promise<string | undefined> {
  try {
    const res = (await conn.config('GET', 'maxmemory-policy')) as string[];
    const policy = res[1];
    if (policy && policy !== 'noeviction') {
      log.warn({ policy }, `Redis maxmemory-policy is "${policy}", not "noeviction": Redis may evict job data under memory pressure`);
    }
    return policy;
  } catch {
    // Managed Redis services often forbid CONFIG; that is not a reason to stop.
    return undefined;
  }
}
