/**
 * Pausing a schedule: a flag in Redis that producers read at each tick. The scheduler itself stays,
 * ticking on its cadence, and its ticks are skipped while the flag is set; so a restart or a
 * reconciliation cannot resume it by accident, and resuming continues on the original cadence.
 */
import type { RedisClient } from '../redis/connection.js';
import { pausedKey } from '../redis/keys.js';

export interface Paused {
  /** When it was paused (epoch ms). */
  at: number;
}

export async function pauseSchedule(conn: RedisClient, prefix: string, kind: string): Promise<boolean> {
  return (await conn.hsetnx(pausedKey(prefix), kind, JSON.stringify({ at: Date.now() } satisfies Paused))) === 1;
}

export async function resumeSchedule(conn: RedisClient, prefix: string, kind: string): Promise<boolean> {
  return (await conn.hdel(pausedKey(prefix), kind)) === 1;
}

/** Every paused schedule, by kind name. */
export async function pausedSchedules(conn: RedisClient, prefix: string): Promise<Map<string, Paused>> {
  const all = await conn.hgetall(pausedKey(prefix));
  return new Map(Object.entries(all).map(([k, v]) => [k, JSON.parse(v) as Paused]));
}

export async function isPaused(conn: RedisClient, prefix: string, kind: string): Promise<boolean> {
  return (await conn.hexists(pausedKey(prefix), kind)) === 1;
}
