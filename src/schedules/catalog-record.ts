/**
 * The catalog as the producers run it, kept in Redis: what `status`, the status page and the API
 * show, whatever the environment of the process that asks, and what `trigger` and `dlq` add jobs
 * with when the caller's environment names no catalog (each kind's settings are recorded too).
 * Written by every producer when it reconciles; the schedulers stay the truth for intervals and
 * next runs.
 */

import type { Scope } from '../config/catalog.js';
import type { Config } from '../config/config.js';
import { compileSchema } from '../config/item-schema.js';
import type { KindConfig } from '../config/kind-config.js';
import { kindsOf } from '../jobs/registry.js';
import type { RedisClient } from '../redis/connection.js';
import { catalogKey } from '../redis/keys.js';
import { scheduleLabel } from './kind-cadence.js';
import { rememberQueues } from './known-queues.js';

/** A kind's settings as JSON: everything but its compiled schema checker (its `schema` is kept). */
export type RecordedSettings = Omit<KindConfig, 'checkData'>;

export interface RecordedKind {
  name: string;
  scope: Scope;
  queue: string;
  /** What a person calls the kind; absent when its catalog gives none. */
  title?: string;
  /** The schedule as configured (for a rule, with what it runs as: scheduleLabel), or `-`. */
  interval: string;
  enabled: boolean;
  /** Absent in records written before settings were recorded. */
  settings?: RecordedSettings;
}

export interface RecordedCatalog {
  kinds: RecordedKind[];
  /** When a producer last wrote it (epoch ms). */
  at: number;
}

export function catalogOf(config: Config): RecordedKind[] {
  return kindsOf(config).map((k) => ({
    name: k.name,
    scope: k.scope,
    queue: k.queue,
    ...(k.title ? { title: k.title } : {}),
    interval: k.schedule ? scheduleLabel(k.name, k.schedule, config.tz) : '-',
    enabled: k.schedule?.enabled ?? false,
    // JSON leaves the checker out; the schema it was compiled from is kept.
    settings: JSON.parse(JSON.stringify(k)) as RecordedSettings,
  }));
}

export async function recordCatalog(conn: RedisClient, config: Config): Promise<void> {
  const rec: RecordedCatalog = { kinds: catalogOf(config), at: Date.now() };
  await conn.set(catalogKey(config.prefix), JSON.stringify(rec));
  await rememberQueues(
    conn,
    config.prefix,
    rec.kinds.map((k) => k.queue),
  );
}

/**
 * `config` with the recorded catalog's kinds instead of its own, or undefined when the record has
 * no settings (written by an older producer). A kind whose schema is code (`standard`) cannot check
 * data here: adding an item of it is refused (trigger.ts).
 */
export function withRecordedKinds(config: Config, rec: RecordedCatalog): Config | undefined {
  if (rec.kinds.some((k) => !k.settings)) return undefined;
  const kinds: Record<string, KindConfig> = {};
  for (const k of rec.kinds) {
    const s = k.settings as RecordedSettings;
    const checkData =
      s.schema === undefined || s.schema === 'standard' ? undefined : compileSchema(s.schema, `recorded kind "${k.name}" field "schema"`);
    kinds[k.name] = Object.freeze({ ...s, checkData });
  }
  return Object.freeze({ ...config, kinds: Object.freeze(kinds) });
}

/** Fields compared between two catalogs, in an operator's words. */
const COMPARED: Array<[string, (k: RecordedKind) => unknown]> = [
  ['scope', (k) => k.scope],
  ['queue', (k) => k.queue],
  ['schedule', (k) => k.interval],
  ['enabled', (k) => k.enabled],
  ['attempts', (k) => k.settings?.attempts],
  ['backoff ms', (k) => k.settings?.backoffMs],
  ['timeout ms', (k) => k.settings?.timeoutMs],
  // A caller whose kind is fair where the services' is not files its jobs in backlogs no worker drains.
  ['fair', (k) => (k.settings ? (k.settings.fair ? 'on' : 'off') : undefined)],
  ['fair window', (k) => k.settings?.fair?.window],
];

/** What differs between the caller's catalog and the recorded one; empty when nothing does. */
export function catalogDifference(here: readonly RecordedKind[], recorded: readonly RecordedKind[]): string[] {
  const theirs = new Map(recorded.map((k) => [k.name, k]));
  const mine = new Map(here.map((k) => [k.name, k]));
  const out: string[] = [];
  const onlyHere = here.filter((k) => !theirs.has(k.name)).map((k) => k.name);
  const onlyThere = recorded.filter((k) => !mine.has(k.name)).map((k) => k.name);
  if (onlyHere.length) out.push(`only here: ${onlyHere.join(', ')}`);
  if (onlyThere.length) out.push(`only in Redis: ${onlyThere.join(', ')}`);
  for (const k of here) {
    const r = theirs.get(k.name);
    if (!r) continue;
    for (const [field, get] of COMPARED) {
      const [a, b] = [get(k), get(r)];
      if (a !== undefined && b !== undefined && a !== b) out.push(`${k.name} ${field} ${String(a)} here, ${String(b)} in Redis`);
    }
  }
  return out;
}

export async function readCatalog(conn: RedisClient, prefix: string): Promise<RecordedCatalog | undefined> {
  const raw = await conn.get(catalogKey(prefix));
  return raw ? (JSON.parse(raw) as RecordedCatalog) : undefined;
}
