/**
 * What every long-running role shares: config, logger, one Redis connection for commands, the queue
 * handles, the dead-letter queue and the shutdown routine.
 */

import type { Config } from '../config/config.js';
import { secretsOf } from '../config/secrets.js';
import { Queues } from '../jobs/queues.js';
import type { RedisClient } from '../redis/connection.js';
import { checkEvictionPolicy, closeConnection, type RedisTarget, targetOf, waitingConnection } from '../redis/connection.js';
import { kindRepeatStrategy } from '../schedules/repeat-strategy.js';
import { DeadLetters } from '../services/dead-letters/index.js';
import { createLogger, type Logger } from '../telemetry/logger.js';
import { Lifecycle } from './lifecycle.js';

export interface Runtime {
  config: Config;
  log: Logger;
  conn: RedisClient;
  queues: Queues;
  deadLetters: DeadLetters;
  lifecycle: Lifecycle;
  /** maxmemory-policy seen at start (undefined when CONFIG is not allowed). */
  evictionPolicy: string | undefined;
}

export function makeLogger(config: Config): Logger {
  return createLogger({ level: config.logLevel, secrets: secretsOf(config) });
}

export async function createRuntime(
  config: Config,
  role: string,
  log: Logger = makeLogger(config),
  target: RedisTarget = targetOf(config),
): Promise<Runtime> {
  const conn = waitingConnection(target, `spotter-jobs:${role}`);
  let lastError = '';
  conn.on('error', (err: Error) => {
    // ioredis repeats the same error on every reconnect attempt; log each distinct one once.
    if (err.message !== lastError) log.warn({ err: err.message }, 'Redis connection error; reconnecting');
    lastError = err.message;
  });
  conn.on('ready', () => {
    if (lastError) log.info('Redis connection restored');
    lastError = '';
  });
  // RRULE and function schedules need the strategy wherever a scheduler is upserted.
  const queues = new Queues(conn, config, log, { repeatStrategy: kindRepeatStrategy(config, log) });
  const lifecycle = new Lifecycle(log, config.shutdownTimeoutMs);
  lifecycle.add({
    name: 'redis',
    close: () => closeConnection(conn),
  });
  lifecycle.add({ name: 'queues', close: () => queues.close() });
  const evictionPolicy = await checkEvictionPolicy(conn, log);
  return { config, log, conn, queues, deadLetters: new DeadLetters(queues, config), lifecycle, evictionPolicy };
}
