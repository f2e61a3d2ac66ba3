/** spotter-jobs' side, in this process: its configuration, logger, user ids and a no-op sync worker. */
import { Writable } from 'node:stream';
import type { Redis } from 'ioredis';
import type { KindConfig } from '../../src/config/kind-config.js';
import { loadConfig } from '../../src/config/load.js';
import { paginate } from '../../src/handlers/types.js';
import type { Queues } from '../../src/jobs/queues.js';
import { DeadLetters } from '../../src/services/dead-letters/index.js';
import { createLogger } from '../../src/telemetry/logger.js';
import { Consumers } from '../../src/workers/consumer.js';

/** The service's defaults, with completed jobs kept so they can be counted. */
export function configFor(url: string, p: string, extra: Record<string, string> = {}) {
  return loadConfig({
    REDIS_URL: url,
    SPOTTER_JOBS_PREFIX: p,
    SPOTTER_JOBS_COMPLETED_KEEP: '100000000',
    SPOTTER_JOBS_LOG_LEVEL: 'info',
    ...extra,
  });
}

export const users = (n: number) => Array.from({ length: n }, (_, i) => `u${i}`);

/** Info-level logging, serialized for real but written nowhere: its cost counts, its volume does not. */
export const silentLog = () =>
  createLogger({
    level: 'info',
    destination: new Writable({
      write(_chunk, _enc, cb) {
        cb();
      },
    }),
  });

/** spotter-jobs' worker for the sync queue with a no-op handler, started. */
export function noopSync(
  conn: Redis,
  config: ReturnType<typeof loadConfig>,
  queues: Queues,
  log: ReturnType<typeof silentLog>,
  observe?: ConstructorParameters<typeof Consumers>[0]['observe'],
): Consumers {
  const consumers = new Consumers(
    {
      conn,
      config,
      queues,
      log,
      deadLetters: new DeadLetters(queues, config),
      handlers: { mode: 'module', listUsers: () => paginate([], 1), run: { sync: async () => null } },
      observe,
    },
    [config.kinds.sync as KindConfig],
  );
  consumers.start();
  return consumers;
}
