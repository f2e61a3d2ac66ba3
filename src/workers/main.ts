/**
 * The worker role: consumes per-user jobs of the chosen queues with the configured caps, retries
 * with backoff and records dead letters. Waits and reconnects when Redis is down.
 */
import { loadHandlers } from '../handlers/select.js';
import type { WorkQueue } from '../jobs/registry.js';
import type { Runtime } from '../runtime.js';
import { type ConsumerDeps, Consumers } from './consumer.js';
import { Retention } from './retention.js';

export async function startWorker(
  rt: Runtime,
  queueNames: readonly WorkQueue[],
  opts: { retention?: boolean; observe?: ConsumerDeps['observe'] } = {},
): Promise<Consumers> {
  const { config, log, conn, lifecycle, deadLetters, queues } = rt;
  const handlers = await loadHandlers(config, { needsUsers: false, queues: queueNames });
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
  const consumers = new Consumers({ conn, config, handlers, deadLetters, log, observe: opts.observe }, queueNames);
  consumers.start();
  lifecycle.add({ name: 'consumers', close: () => consumers.close(), abandon: () => consumers.abandon() });
  log.info(
    { queues: queueNames.map((q) => ({ queue: q, concurrency: config.queues[q].concurrency, attempts: config.queues[q].attempts })) },
    'worker started',
  );
  return consumers;
}
