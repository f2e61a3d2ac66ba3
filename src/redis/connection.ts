/**
 * Redis connections. Two factories, as BullMQ's production guide advises: commands issued on behalf
 * of a user request fail fast, while long-lived consumers wait and reconnect for as long as it takes.
 * The target is a single server, a Redis Cluster (detected from the server itself) or a
 * Sentinel-managed master (configured by SPOTTER_JOBS_REDIS_SENTINELS).
 */
import { Cluster, Redis, type RedisOptions } from 'ioredis';
import type { Config } from '../config/config.js';
import { ConfigError } from '../config/errors.js';
import { redactUrl } from '../config/secrets.js';
import type { Logger } from '../telemetry/logger.js';

export type RedisClient = Redis | Cluster;

export interface RedisTarget {
  url: string;
  sentinels?: ReadonlyArray<{ host: string; port: number }>;
  sentinelName?: string;
  cluster: boolean;
}

export function targetOf(config: Config, cluster = false): RedisTarget {
  return { url: config.redisUrl, sentinels: config.redisSentinels, sentinelName: config.redisSentinelName, cluster };
}

/** Credentials, database and TLS from REDIS_URL, for the connection kinds that do not take a URL. */
function urlOptions(url: string): RedisOptions {
  const u = new URL(url);
  const db = Number(u.pathname.replace(/^\//, '') || 0);
  return {
    host: u.hostname,
    port: Number(u.port || 6379),
    username: u.username ? decodeURIComponent(u.username) : undefined,
    password: u.password ? decodeURIComponent(u.password) : undefined,
    db: Number.isFinite(db) ? db : 0,
    tls: u.protocol === 'rediss:' ? {} : undefined,
  };
}

function connect(target: RedisTarget, opts: RedisOptions): RedisClient {
  if (target.sentinels && target.sentinels.length > 0) {
    const { host: _h, port: _p, ...auth } = urlOptions(target.url);
    return new Redis({
      ...auth,
      ...opts,
      sentinels: [...target.sentinels],
      name: target.sentinelName ?? 'mymaster',
      // Follow a failover as soon as Sentinel announces it, and leave a master that was demoted.
      failoverDetector: true,
      reconnectOnError: (err) => (/READONLY|UNBLOCKED/.test(err.message) ? 2 : false),
    });
  }
  if (target.cluster) {
    const { host, port, ...auth } = urlOptions(target.url);
    const { retryStrategy, ...rest } = opts;
    return new Cluster([{ host: host as string, port: port as number }], {
      redisOptions: { ...auth, ...rest },
      clusterRetryStrategy: retryStrategy,
      enableOfflineQueue: opts.enableOfflineQueue ?? true,
    });
  }
  return new Redis(target.url, opts);
}

/**
 * Closes a connection for good: QUIT lets pending replies arrive, then disconnect() also drops the
 * Sentinel subscriptions ioredis keeps for failover detection, which QUIT alone leaves open.
 */
export async function closeConnection(conn: RedisClient): Promise<void> {
  await conn.quit().catch(() => undefined);
  conn.disconnect();
}

/** Connection for workers and the producer's consumers: retries forever, never gives up a command. */
export function waitingConnection(target: RedisTarget, name: string): RedisClient {
  return connect(target, {
    connectionName: name,
    maxRetriesPerRequest: null,
    enableReadyCheck: true,
    // Reconnect quickly at first, then at most every 5 s: recovery time after an outage stays short
    // without hammering a Redis that is restarting.
    retryStrategy: (times) => Math.min(100 * 2 ** Math.min(times, 6), 5000),
  });
}

/** Connection for short-lived commands (CLI, API): errors at once instead of queueing while Redis is down. */
export function failFastConnection(target: RedisTarget, name: string): RedisClient {
  return connect(target, {
    connectionName: name,
    maxRetriesPerRequest: 1,
    connectTimeout: 3000,
    retryStrategy: (times) => (times > 2 ? null : 200),
  });
}

/**
 * Connection for the web surface (status page, API, board, metrics): reconnects for as long as it
 * takes, like a waiting connection, but a command fails within `commandTimeout` instead of hanging for
 * the whole outage, so a request gets its 503 in time.
 */
export function webConnection(target: RedisTarget, name: string, commandTimeoutMs = 1500): RedisClient {
  return connect(target, {
    connectionName: name,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    commandTimeout: commandTimeoutMs,
    connectTimeout: commandTimeoutMs,
    retryStrategy: (times) => Math.min(100 * 2 ** Math.min(times, 6), 5000),
  });
}

/** Resolves once `conn` is ready (at once if it is), or after `ms` whatever its state. */
export function whenReady(conn: RedisClient, ms = 3000): Promise<void> {
  if (conn.status === 'ready') return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      conn.off('ready', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    conn.once('ready', done);
  });
}

/** Runs `fn` with a deadline; the timer is cleared either way, so it never holds the process open. */
export async function within<T>(ms: number, fn: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      fn(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

export class RedisUnavailableError extends Error {
  override name = 'RedisUnavailableError';
}

function where(target: RedisTarget): string {
  return target.sentinels?.length
    ? `Sentinel master "${target.sentinelName}" via ${target.sentinels.map((s) => `${s.host}:${s.port}`).join(',')}`
    : `Redis at ${redactUrl(target.url)}`;
}

/**
 * Checks that Redis answers within `timeoutMs` and tells whether it is a cluster node. Producers and
 * the CLI call it at start-up so they fail fast with a message naming the address (password masked).
 */
export async function probe(target: Omit<RedisTarget, 'cluster'>, timeoutMs = 3000): Promise<{ cluster: boolean }> {
  const t: RedisTarget = { ...target, cluster: false };
  const client = connect(t, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
  }) as Redis;
  // The reason a connection closes (a refused password, say) arrives as an error event, not as the
  // rejection of connect(), which only says "Connection is closed".
  let lastError: Error | undefined;
  client.on('error', (err: Error) => {
    lastError = err;
  });
  try {
    await within(timeoutMs, () => client.connect());
    const info = await within(timeoutMs, () => client.info('cluster'));
    const db = urlOptions(target.url).db ?? 0;
    // ioredis reports a failed SELECT as an error event and carries on in database 0; ask again, so a
    // database the server does not have stops start-up instead of silently sharing database 0.
    if (db > 0) {
      await within(timeoutMs, () => client.select(db)).catch((err: Error) => {
        throw new ConfigError('REDIS_URL', redactUrl(target.url), `a database the server has (database ${db}: ${err.message})`);
      });
    }
    return { cluster: /cluster_enabled:1/.test(info) };
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    const message = lastError && /closed/i.test((err as Error).message) ? lastError.message : (err as Error).message;
    if (/WRONGPASS|NOAUTH|invalid password|invalid username-password|AUTH failed/i.test(message)) {
      throw new RedisUnavailableError(
        `${where(t)} refused the credentials: authentication failed (${message}). Check the user and password in REDIS_URL.`,
      );
    }
    throw new RedisUnavailableError(`${where(t)} is not reachable (${message}). Start Redis or set REDIS_URL.`);
  } finally {
    client.disconnect();
  }
}

/** Like `probe`, but keeps trying until Redis answers: for workers, which wait rather than fail. */
export async function probeUntilReachable(
  target: Omit<RedisTarget, 'cluster'>,
  log: Logger,
  signal?: AbortSignal,
): Promise<{ cluster: boolean }> {
  let said = false;
  for (;;) {
    try {
      return await probe(target);
    } catch (err) {
      if (signal?.aborted || err instanceof ConfigError) throw err;
      if (!said) log.warn({ err: (err as Error).message }, 'waiting for Redis');
      said = true;
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}

/** True when something answers PING at `url` within `timeoutMs`. */
export async function answers(url: string, timeoutMs = 1000): Promise<boolean> {
  try {
    await probe({ url }, timeoutMs);
    return true;
  } catch {
    return false;
  }
}

/**
 * On Redis Cluster every key of a queue must hash to one slot, which BullMQ gets only from a
 * hash-tagged prefix such as `{spotter}`. Refuse to start otherwise rather than fail on first use.
 */
export function assertClusterPrefix(cluster: boolean, prefix: string): void {
  if (cluster && !/\{[^}]+\}/.test(prefix)) {
    throw new ConfigError('SPOTTER_JOBS_PREFIX', prefix, 'a hash-tagged prefix such as {spotter} when Redis is a cluster');
  }
}

/**
 * BullMQ keeps its data only if Redis never evicts keys; anything but `noeviction` can silently drop
 * jobs under memory pressure. Returns the policy so readiness can report it too.
 */
export async function checkEvictionPolicy(conn: RedisClient, log: Logger): Promise<string | undefined> {
  try {
    const node = conn instanceof Cluster ? conn.nodes('master')[0] : conn;
    if (!node) return undefined;
    const res = (await node.config('GET', 'maxmemory-policy')) as string[];
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
