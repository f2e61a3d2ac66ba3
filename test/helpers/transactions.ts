/**
 * Counts the transactions Redis runs while an action runs, from its own command statistics: how
 * long a single step holds Redis (and every worker's commands behind it) is a behaviour. Counts every
 * client's, so the test runs on a Redis of its own (privateRedis).
 */
import type { RedisClient } from '../../src/redis/connection.js';

async function execCalls(conn: RedisClient): Promise<number> {
  const stats = await conn.info('commandstats');
  return Number(/cmdstat_exec:calls=(\d+)/.exec(stats)?.[1] ?? 0);
}

/** The EXECs Redis ran while `action` ran. */
export async function transactionsDuring(conn: RedisClient, action: () => Promise<unknown>): Promise<number> {
  const before = await execCalls(conn);
  await action();
  return (await execCalls(conn)) - before;
}
