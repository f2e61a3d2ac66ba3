/** What every short command shares: its usage error, and a connection to Redis for one command. */
import type { Config } from '../config/config.js';
import { Queues } from '../jobs/queues.js';
import { closeConnection, failFastConnection, probe, targetOf } from '../redis/connection.js';
import { createLogger } from '../telemetry/logger.js';
import { commandCatalog } from './recorded-catalog.js';

/** A bad command line: exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

export type Out = (s: string) => void;

/** Warnings go to stderr, so `--json` output stays JSON. */
export const warn: Out = (s) => process.stderr.write(`spotter-jobs: ${s}\n`);

export async function withQueues<T>(config: Config, fn: (q: Queues) => Promise<T>): Promise<T> {
  const { cluster } = await probe(targetOf(config));
  const conn = failFastConnection(targetOf(config, cluster), 'spotter-jobs:cli');
  conn.on('error', () => {});
  const queues = new Queues(conn, config, createLogger({ level: 'silent' }), { writesMeta: false });
  try {
    return await fn(queues);
  } finally {
    await queues.close();
    await closeConnection(conn);
  }
}

/** Like withQueues, with the catalog the command acts on (recorded-catalog.ts). */
export function withCatalog<T>(config: Config, fn: (q: Queues, c: Config) => Promise<T>): Promise<T> {
  return withQueues(config, async (q) => fn(q, await commandCatalog(q, config, warn)));
}
