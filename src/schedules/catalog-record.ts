/**
 * The catalog as the producers run it, kept in Redis: what `status`, the status page and the API
 * show, whatever the environment of the process that asks. Written by every producer when it
 * reconciles; the schedulers themselves stay the truth for intervals and next runs.
 */
import type { Config } from '../config.js';
import type { Scope } from '../jobs/catalog.js';
import { kindsOf } from '../jobs/registry.js';
import type { RedisClient } from '../redis.js';

export interface RecordedKind {
  name: string;
  scope: Scope;
  queue: string;
  /** What a person calls the kind; absent when its catalog gives none. */
  title?: string;
  /** The schedule as configured, or `-`. */
  interval: string;
  enabled: boolean;
}

export interface RecordedCatalog {
  kinds: RecordedKind[];
  /** When a producer last wrote it (epoch ms). */
  at: number;
}

export function catalogKey(prefix: string): string {
  return `${prefix}:spotter-jobs:catalog`;
}

export function catalogOf(config: Config): RecordedKind[] {
  return kindsOf(config).map((k) => ({
    name: k.name,
    scope: k.scope,
    queue: k.queue,
    ...(k.title ? { title: k.title } : {}),
    interval: k.schedule?.intervalText ?? '-',
    enabled: k.schedule?.enabled ?? false,
  }));
}

export async function recordCatalog(conn: RedisClient, config: Config): Promise<void> {
  const rec: RecordedCatalog = { kinds: catalogOf(config), at: Date.now() };
  await conn.set(catalogKey(config.prefix), JSON.stringify(rec));
}

export async function readCatalog(conn: RedisClient, prefix: string): Promise<RecordedCatalog | undefined> {
  const raw = await conn.get(catalogKey(prefix));
  return raw ? (JSON.parse(raw) as RecordedCatalog) : undefined;
}
