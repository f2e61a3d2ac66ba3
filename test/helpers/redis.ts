/** Per-test isolation on the shared Redis: a random key prefix, and removal of its keys afterwards. */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Cluster, Redis } from 'ioredis';
import { inject } from 'vitest';
import type { Config } from '../../src/config/config.js';
import { loadConfig } from '../../src/config/load.js';
import { freePort, LocalRedis } from '../../src/redis/local.js';

export function redisUrl(): string {
  return inject('redisUrl');
}

/** Every prefix handed out in this test file; the leak check (leak-check.ts) scans them after it. */
const handedOut = new Set<string>();

export function newPrefix(): string {
  const prefix = `t${randomBytes(5).toString('hex')}`;
  handedOut.add(prefix);
  return prefix;
}

export function prefixesHandedOut(): string[] {
  return [...handedOut];
}

/** Environment for a test process or config: shared Redis, own prefix, quiet logs, fast retries. */
export function testEnv(prefix: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    REDIS_URL: redisUrl(),
    SPOTTER_JOBS_PREFIX: prefix,
    SPOTTER_JOBS_LOG_LEVEL: 'warn',
    SPOTTER_JOBS_BACKOFF: '50ms',
    SPOTTER_JOBS_WORKER_HTTP_PORT: '0',
    SPOTTER_JOBS_HTTP_PORT: '0',
    ...extra,
  };
}

export function testConfig(prefix: string, extra: Record<string, string> = {}): Config {
  return loadConfig(testEnv(prefix, extra));
}

export async function deletePrefix(conn: Redis | Cluster, prefix: string): Promise<void> {
  // On a cluster every master holds a share of the keys (all of them, with a hash-tagged prefix, on one).
  const nodes = conn instanceof Cluster ? conn.nodes('master') : [conn];
  for (const node of nodes) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      for (const k of keys) await node.unlink(k);
    } while (cursor !== '0');
  }
}

/** A connection for a test plus a cleanup that removes the prefix's keys and closes it. */
export function testRedis(url = redisUrl()): Redis {
  const conn = new Redis(url, { maxRetriesPerRequest: null });
  // Tests that stop Redis on purpose expect this connection to fail meanwhile.
  conn.on('error', () => {});
  return conn;
}

/** A redis-server of the test's own (with AOF), for tests that stop, pause or restart Redis. */
export async function privateRedis(opts: { appendonly?: boolean; args?: string[] } = {}): Promise<{
  redis: LocalRedis;
  restart: () => Promise<void>;
  dispose: () => Promise<void>;
}> {
  const dir = mkdtempSync(join(tmpdir(), 'spotter-jobs-redis-'));
  const port = await freePort();
  const make = () => new LocalRedis({ port, dir, appendonly: opts.appendonly ?? true, args: opts.args });
  const holder = { redis: make() };
  await holder.redis.start();
  return {
    get redis() {
      return holder.redis;
    },
    restart: async () => {
      holder.redis = make();
      await holder.redis.start();
    },
    dispose: async () => {
      await holder.redis.stop('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Fills a (private) Redis until it refuses a write for memory: `noeviction`, a maxmemory 2 MiB above
 * what it uses now, then 100 KB values under `keyPrefix` (at most 100). Returns the limit set and the
 * refusal Redis answered ('' if none came).
 */
export async function fillUntilOutOfMemory(
  conn: Redis | Cluster,
  keyPrefix: string,
  used: number,
): Promise<{ max: number; refused: string }> {
  const max = used + 2 * 2 ** 20;
  await conn.config('SET', 'maxmemory-policy', 'noeviction');
  await conn.config('SET', 'maxmemory', String(max));
  const chunk = 'x'.repeat(100_000);
  let refused = '';
  for (let i = 0; i < 100 && !refused; i++) {
    refused = await conn.set(`${keyPrefix}:filler:${i}`, chunk).then(
      () => '',
      (err: Error) => err.message,
    );
  }
  return { max, refused };
}
