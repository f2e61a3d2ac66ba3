/**
 * Each tick's result, kept in Redis so `status`, the API and metrics of any process can show the
 * last run of every schedule. A short history is kept too, newest first.
 */

import type { RedisClient } from '../redis/connection.js';
import { tickKey } from '../redis/keys.js';

export interface TickResult {
  schedule: string;
  tickId: string;
  manual: boolean;
  scheduledFor: number;
  startedAt: number;
  finishedAt: number;
  durationMs: number;
  users: number;
  added: number;
  coalesced: number;
  errors: number;
  /** Ids whose job of this tick already existed (listed twice); absent in records of older versions. */
  duplicates?: number;
  /**
   * How far a user tick got through the schedule's listing, in users: from where it began (where the
   * tick before it stopped) to where it stopped, and the listing's length when one last got to its end.
   */
  listing?: { from: number; reached: number; of?: number; wrapped: boolean };
  /** A superseded tick: the newer tick that took over, going on from `listing.reached`. */
  supersededBy?: string;
  /**
   * `ok`; `failed` when the fan-out could not finish (the tick job is retried); `paused` when the
   * schedule was paused, `skipped` when a missed tick was dropped by its catch-up policy (both kept
   * in the history only, so the last run stays the last one that ran); `superseded` when a newer
   * tick of the schedule started while this one paged (windowed fan-out) and it stopped there.
   */
  result: 'ok' | 'failed' | 'paused' | 'skipped' | 'superseded';
  error?: string;
}

const HISTORY = 50;

/** The listing part of a tick's result in words, such as "reached 25 of 60 (from 0); tick … took over there". */
export function describeListing(r: Pick<TickResult, 'listing' | 'supersededBy'>): string {
  const l = r.listing;
  if (!l) return '';
  const of = l.of !== undefined ? ` of ${l.of}` : '';
  const from = l.wrapped ? `from ${l.from}, wrapped round` : `from ${l.from}`;
  return `reached ${l.reached}${of} (${from})${r.supersededBy ? `; tick ${r.supersededBy} took over there` : ''}`;
}

export async function recordTick(conn: RedisClient, prefix: string, r: TickResult): Promise<void> {
  const json = JSON.stringify(r);
  const m = conn.multi();
  if (r.result !== 'paused' && r.result !== 'skipped') m.set(tickKey(prefix, r.schedule, 'last'), json);
  await m
    .lpush(tickKey(prefix, r.schedule, 'history'), json)
    .ltrim(tickKey(prefix, r.schedule, 'history'), 0, HISTORY - 1)
    .exec();
}

export async function lastTick(conn: RedisClient, prefix: string, schedule: string): Promise<TickResult | undefined> {
  const raw = await conn.get(tickKey(prefix, schedule, 'last'));
  return raw ? (JSON.parse(raw) as TickResult) : undefined;
}

export async function tickHistory(conn: RedisClient, prefix: string, schedule: string, limit = HISTORY): Promise<TickResult[]> {
  const raw = await conn.lrange(tickKey(prefix, schedule, 'history'), 0, limit - 1);
  return raw.map((r) => JSON.parse(r) as TickResult);
}
