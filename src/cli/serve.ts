/** `producer`, `worker` and `all`: the long-running roles, each with one shutdown routine. */
import { resolve } from 'node:path';
import type { Registry } from 'prom-client';
import type { Config } from '../config/config.js';
import type { KindConfig } from '../config/kind-config.js';
import { redactUrl } from '../config/secrets.js';
import { loadHandlers } from '../handlers/select.js';
import { Queues } from '../jobs/queues.js';
import { kindsOf } from '../jobs/registry.js';
import { type Producer, startProducer } from '../producers/main.js';
import {
  answers,
  assertClusterPrefix,
  closeConnection,
  probe,
  probeUntilReachable,
  targetOf,
  webConnection,
  whenReady,
  within,
} from '../redis/connection.js';
import { logRedisIdentity } from '../redis/identity.js';
import { LocalRedis } from '../redis/local.js';
import { createRuntime, makeLogger, type Runtime } from '../runtime/runtime.js';
import { scheduleDefinitions } from '../schedules/definitions.js';
import { DeadLetters } from '../services/dead-letters/index.js';
import type { Logger } from '../telemetry/logger.js';
import { startTracing } from '../telemetry/tracing.js';
import { createApp, createProbeApp } from '../web/app.js';
import type { Readiness, ReadinessReport } from '../web/health.js';
import { createRegistry, JobMetrics, registerClusterMetrics, registerProcessMetrics, TickMetrics } from '../web/metrics.js';
import { assertSafeBinding, type Listening, listen } from '../web/server.js';
import { ScheduleLagMetrics } from '../web/subject-schedule-metrics.js';
import type { Consumers } from '../workers/consumer.js';
import { startWorker } from '../workers/main.js';

export type Role = 'producer' | 'worker' | 'all';

/** Ready means: not draining, Redis answering, and this role doing its work. */
function readinessOf(
  rt: Runtime,
  parts: { producer?: Producer; consumers?: Consumers; expectProducer: boolean; expectConsumers: boolean },
): Readiness {
  return async (): Promise<ReadinessReport> => {
    const checks: Record<string, string> = {};
    let ready = true;
    if (rt.lifecycle.draining) return { ready: false, checks: { lifecycle: 'draining' } };
    try {
      await within(1000, () => rt.conn.ping());
      checks.redis = 'ok';
    } catch (err) {
      checks.redis = (err as Error).message;
      ready = false;
    }
    if (parts.expectProducer) {
      const ok = parts.producer?.reconciled() ?? false;
      checks.schedules = ok ? 'reconciled' : 'not reconciled yet';
      // Said, not failing readiness: the board and the API, which an operator needs to free memory,
      // answer on this process' port and must stay reachable through its Service.
      const refused = parts.producer?.ticks.refusal();
      if (refused !== undefined) checks.ticks = `Redis refuses the tick worker (${refused})`;
      ready &&= ok;
    }
    if (parts.expectConsumers) {
      // Up, but not working: Redis refuses the worker (out of memory, a read-only replica). A worker
      // process is then not ready; one that also serves the board (`all`) only says so.
      const refused = parts.consumers?.refusal();
      const consuming = (await parts.consumers?.consuming()) ?? false;
      const ok = consuming && (refused === undefined || parts.expectProducer);
      checks.consuming = !consuming ? 'not consuming' : refused !== undefined ? `Redis refuses this worker (${refused})` : 'ok';
      ready &&= ok;
      // Reported, not failing readiness: the slots are free again, but the operator should know.
      const overdue = parts.consumers?.overdue() ?? [];
      if (overdue.length > 0)
        checks.overdue = `${overdue.length} job(s) still running past their timeout: ${overdue
          .map((o) => `${o.queue}/${o.jobId}`)
          .join(', ')
          .slice(0, 500)}`;
    }
    if (rt.evictionPolicy && rt.evictionPolicy !== 'noeviction') {
      checks.evictionPolicy = `warning: maxmemory-policy is ${rt.evictionPolicy}, not noeviction`;
    }
    return { ready, checks };
  };
}

/** `npm start` on a bare machine: bring a private Redis, with AOF so data survives restarts. */
async function localRedisFor(config: Config, role: Role, log: Logger): Promise<LocalRedis | undefined> {
  if (role !== 'all' || config.redisUrlSet || (await answers(config.redisUrl))) return undefined;
  const u = new URL(config.redisUrl);
  const local = new LocalRedis({ port: Number(u.port || 6379), host: u.hostname, dir: resolve('.data/redis') });
  await local.start();
  log.info(
    { redis: redactUrl(config.redisUrl), dir: local.opts.dir, pid: local.pid },
    'no Redis was running: started a private redis-server (data in .data/redis)',
  );
  return local;
}

/**
 * Producers fail fast: a schedule that cannot be reconciled is worse than a clear exit. Workers
 * wait for Redis instead, as they do for every outage after start-up.
 */
async function connect(
  config: Config,
  role: Role,
  log: Logger,
  cleanUp: { probes: Listening | undefined; stopTracing: () => Promise<void> },
): Promise<{ cluster: boolean; rt: Runtime }> {
  try {
    const { cluster } = role === 'worker' ? await probeUntilReachable(targetOf(config), log) : await probe(targetOf(config));
    assertClusterPrefix(cluster, config.prefix);
    if (cluster) log.info({ prefix: config.prefix }, 'Redis is a cluster: using the hash-tagged prefix on every node');
    const rt = await createRuntime(config, role, log, targetOf(config, cluster));
    await logRedisIdentity(log, rt.conn, targetOf(config, cluster), config.prefix);
    return { cluster, rt };
  } catch (err) {
    // An open probe server would keep the process alive after the error.
    await cleanUp.probes?.close();
    await cleanUp.stopTracing();
    throw err;
  }
}

/**
 * The web surface reads through a fail-fast connection of its own: during an outage a page or a
 * scrape is answered 503 (or redis_up 0) in time instead of waiting as the consumers do.
 */
async function startWeb(
  rt: Runtime,
  web: { config: Config; role: Role; cluster: boolean; registry: Registry; readiness: Readiness; log: Logger },
): Promise<void> {
  const { config, role, cluster, registry, readiness, log } = web;
  const webConn = webConnection(targetOf(config, cluster), `spotter-jobs:${role}:web`);
  webConn.on('error', () => {});
  // Connected before the first request, which would otherwise meet a connection still opening.
  await whenReady(webConn);
  const webQueues = new Queues(webConn, config, log);
  rt.lifecycle.add({
    name: 'web-redis',
    close: async () => {
      await webQueues.close();
      await closeConnection(webConn);
    },
  });
  registerClusterMetrics(registry, webQueues, config);
  const app = createApp({ config, queues: webQueues, deadLetters: new DeadLetters(webQueues, config), readiness, registry, log });
  const http = await listen(app, config.http.host, config.http.port);
  rt.lifecycle.add({ name: 'http', close: () => http.close() });
  log.info(
    { url: http.url, board: `${http.url}/board`, auth: config.http.boardPassword ? 'basic' : 'none (loopback only)' },
    `board at ${http.url}/board`,
  );
}

export async function serve(config: Config, role: Role, kinds: readonly KindConfig[] = kindsOf(config)): Promise<void> {
  const log = makeLogger(config).child({ role });
  if (role !== 'worker') assertSafeBinding(config.http.host, config.http.boardPassword);
  // Handlers first: a kind this process would consume without a handler is a configuration error,
  // said before anything waits for Redis.
  const handlers = await loadHandlers(config, { needsUsers: role !== 'worker', kinds: role === 'producer' ? [] : kinds });
  // Schedule rules and functions too (the configuration cannot read them): a bad one exits 78 at once.
  if (role !== 'worker') scheduleDefinitions(config);
  const local = await localRedisFor(config, role, log);
  const registry = createRegistry();
  const parts: Parameters<typeof readinessOf>[1] = { expectProducer: role !== 'worker', expectConsumers: role !== 'producer' };
  const jobMetrics = role !== 'producer' ? new JobMetrics(registry, () => parts.consumers?.overdue().length ?? 0) : undefined;
  let ready: Readiness = async () => ({ ready: false, checks: { redis: 'waiting for Redis' } });
  registerProcessMetrics(registry, role, () => ready(), role !== 'producer' ? () => parts.consumers?.slots() ?? [] : undefined);
  const tickMetrics = role !== 'worker' ? new TickMetrics(registry) : undefined;
  const lag = new ScheduleLagMetrics(registry);
  // A worker's probes answer from the start: liveness has no dependencies, so an orchestrator does
  // not restart a worker that is only waiting for Redis (readiness says 503 meanwhile).
  const probes =
    role === 'worker' && config.http.workerPort !== 0
      ? await listen(createProbeApp({ readiness: () => ready(), registry, log }), config.http.workerHost, config.http.workerPort)
      : undefined;
  if (probes) log.info({ url: probes.url }, `probes and metrics at ${probes.url}`);
  // Before any queue or worker exists: BullMQ takes its telemetry when they are created.
  const stopTracing = await startTracing(config, role, log);
  const { cluster, rt } = await connect(config, role, log, { probes, stopTracing });
  // Registered first, so it closes last: the spans of the final jobs are flushed too.
  rt.lifecycle.add({ name: 'tracing', close: stopTracing });
  if (local) rt.lifecycle.add({ name: 'local-redis', close: () => local.stop() });
  rt.lifecycle.installSignalHandlers();
  if (probes) rt.lifecycle.add({ name: 'http', close: () => probes.close() });
  try {
    const readiness = readinessOf(rt, parts);
    ready = readiness;
    // The HTTP server is registered before the consumers, so it closes after them: probes keep
    // answering (503) while running jobs finish.
    if (role !== 'worker') await startWeb(rt, { config, role, cluster, registry, readiness, log });
    if (role !== 'worker')
      parts.producer = await startProducer(rt, {
        retention: true,
        handlers,
        onTick: (t) => tickMetrics?.observe(t),
        observeScheduleLag: (kind, stage, s) => lag.observe(kind, stage, s),
      });
    if (role !== 'producer') {
      parts.consumers = await startWorker(rt, kinds, {
        handlers,
        retention: role === 'worker',
        observe: jobMetrics ? (q, outcome, s) => jobMetrics.observe(q, outcome, s) : undefined,
        observeScheduleLag: (kind, stage, s) => lag.observe(kind, stage, s),
      });
    }
  } catch (err) {
    await rt.lifecycle.shutdown();
    throw err;
  }
}
