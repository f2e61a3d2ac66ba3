/**
 * The worker role: consumes the jobs of the chosen queues (any kind) with the configured caps, retries
 * with backoff and records dead letters. Waits and reconnects when Redis is down.
 */

import type { KindConfig } from '../config/kind-config.js';
import { loadHandlers } from '../handlers/select.js';
import type { Handlers } from '../handlers/types.js';
import type { Runtime } from '../runtime/runtime.js';
import { Retention } from '../services/retention.js';
import { type ConsumerDeps, Consumers } from './consumer.js';

export async function startWorker(
  rt: Runtime,
  kinds: readonly KindConfig[],
  opts: {
    retention?: boolean;
    observe?: ConsumerDeps['observe'];
    observeScheduleLag?: ConsumerDeps['observeScheduleLag'];
    handlers?: Handlers;
  } = {},
): Promise<Consumers> {
  const { config, log, conn, lifecycle, deadLetters, queues } = rt;
  const handlers = opts.handlers ?? (await loadHandlers(config, { needsUsers: false, kinds }));
  if (handlers.mode === 'demo') {
    log.info(
      { users: config.handlers.kind === 'demo' ? config.handlers.users : 0 },
      'demo mode: simulated users and handlers (set SPOTTER_URL or SPOTTER_JOBS_HANDLERS for real work)',
    );
  }
  if (opts.retention !== false) {
    const retention = new Retention(queues, deadLetters, config, log);
    retention.start();
    lifecycle.add({ name: 'retention', close: () => retention.close() });
  }
  const consumers = new Consumers(
    { conn, config, queues, handlers, deadLetters, log, observe: opts.observe, observeScheduleLag: opts.observeScheduleLag },
    kinds,
  );
  consumers.start();
  lifecycle.add({ name: 'consumers', close: () => consumers.close(), abandon: () => consumers.abandon() });
  log.info(
    {
      kinds: kinds.map((k) => ({
        kind: k.name,
        ...(k.title ? { title: k.title } : {}),
        queue: k.queue,
        scope: k.scope,
        concurrency: k.concurrency,
        attempts: k.attempts,
      })),
    },
    'worker started',
  );
  return consumers;
}
