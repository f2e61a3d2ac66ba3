/**
 * The producer role: reconciles the schedules, watches that they stay in Redis, and consumes ticks,
 * fanning each out into its kind's jobs (one per user, or the one job of a global kind). Fails fast
 * when Redis is down at start.
 */

import { labelOf } from '../config/kind-title.js';
import { loadHandlers } from '../handlers/select.js';
import type { Handlers } from '../handlers/types.js';
import { tickJobOptions } from '../jobs/queues.js';
import { kindsOf } from '../jobs/registry.js';
import type { Runtime } from '../runtime/runtime.js';
import { recordCatalog } from '../schedules/catalog-record.js';
import { scheduleDefinitions } from '../schedules/definitions.js';
import { scheduleLabel } from '../schedules/kind-cadence.js';
import { discoverQueues } from '../schedules/known-queues.js';
import { pausedSchedules } from '../schedules/pause.js';
import { reconcileSchedules } from '../schedules/reconcile.js';
import { ScheduleWatch } from '../schedules/watch.js';
import { Retention } from '../services/retention.js';
import { Materialiser, type MaterialiserDeps } from './materialiser.js';
import { TickConsumer, type TickConsumerDeps } from './tick-consumer.js';

export interface Producer {
  ticks: TickConsumer;
  reconcile(): Promise<unknown>;
  /** True once the schedules have been reconciled at least once. */
  reconciled(): boolean;
}

/** Cluster-wide limits live on the queue in Redis; set (or clear) them to match the config. */
export async function applyGlobalLimits(rt: Runtime): Promise<void> {
  for (const kind of kindsOf(rt.config)) {
    const n = kind.globalConcurrency;
    const queue = rt.queues.get(kind.queue);
    if (n) await queue.setGlobalConcurrency(n);
    else await queue.removeGlobalConcurrency();
  }
}

export async function startProducer(
  rt: Runtime,
  opts: {
    retention?: boolean;
    handlers?: Handlers;
    onTick?: TickConsumerDeps['onTick'];
    observeScheduleLag?: MaterialiserDeps['observeLag'];
  } = {},
): Promise<Producer> {
  const { config, log, conn, queues, lifecycle } = rt;
  const handlers = opts.handlers ?? (await loadHandlers(config, { needsUsers: true, kinds: [] }));
  const definitions = scheduleDefinitions(config);
  let done = false;
  const reconcile = async () => {
    const r = await reconcileSchedules({
      conn,
      prefix: config.prefix,
      queue: queues.schedules(),
      definitions,
      tickOptions: tickJobOptions(config),
      log,
    });
    await recordCatalog(conn, config);
    done = true;
    return r;
  };
  await applyGlobalLimits(rt);
  await reconcile();
  // Queues from before the known-queue set existed, so `status` can list those no kind consumes.
  // In the background: one pass over the keyspace must not hold up start-up.
  discoverQueues(conn, config.prefix).catch((err: Error) => log.debug({ err: err.message }, 'could not look for queues left behind'));

  const ticks = new TickConsumer({ conn, config, queues, handlers, log, onTick: opts.onTick });
  ticks.start();
  lifecycle.add({ name: 'ticks', close: () => ticks.close(), abandon: () => ticks.abandon() });

  const watch = new ScheduleWatch(queues.schedules(), definitions.filter((d) => d.enabled).length, reconcile, log);
  watch.start();
  lifecycle.add({ name: 'schedule-watch', close: () => watch.close() });

  const materialiser = new Materialiser({ config, queues, log, observeLag: opts.observeScheduleLag });
  materialiser.start();
  lifecycle.add({ name: 'subject-schedules', close: () => materialiser.close() });

  if (opts.retention !== false) {
    const retention = new Retention(queues, rt.deadLetters, config, log);
    retention.start();
    lifecycle.add({ name: 'retention', close: () => retention.close() });
  }
  log.info(
    { mode: handlers.mode, schedules: definitions.map((d) => ({ name: d.name, enabled: d.enabled, interval: d.intervalText })) },
    'producer started',
  );
  await logNextRuns(rt);
  return { ticks, reconcile, reconciled: () => done };
}

/** One line per scheduled kind with its next run, read from its scheduler: what will happen, and when. */
async function logNextRuns(rt: Runtime): Promise<void> {
  const [schedulers, paused] = await Promise.all([
    rt.queues
      .schedules()
      .getJobSchedulers(0, -1)
      .catch(() => []),
    pausedSchedules(rt.conn, rt.config.prefix).catch(() => new Map()),
  ]);
  const next = new Map(schedulers.map((s) => [s.key, s.next]));
  for (const kind of kindsOf(rt.config)) {
    if (!kind.schedule) continue;
    const at = next.get(kind.name);
    const nextRun = at ? new Date(at).toISOString() : null;
    rt.log.info(
      {
        schedule: kind.name,
        ...(kind.title ? { title: kind.title } : {}),
        interval: scheduleLabel(kind.name, kind.schedule, rt.config.tz),
        enabled: kind.schedule.enabled,
        paused: paused.has(kind.name),
        nextRun,
      },
      !nextRun
        ? `${labelOf(kind)} has no next run (${kind.schedule.enabled ? 'not scheduled yet' : 'disabled'})`
        : `${labelOf(kind)} next runs at ${nextRun}${paused.has(kind.name) ? ' (paused: that tick will be skipped)' : ''}`,
    );
  }
}
