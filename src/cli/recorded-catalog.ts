/**
 * Which catalog a command that adds or moves jobs (`trigger`, `dlq`, `pause`, `forget`) works with.
 * The producers record theirs, settings included, in Redis; a caller whose environment names no
 * catalog (no SPOTTER_JOBS_HANDLERS, no SPOTTER_JOBS_CATALOG) uses that one, so the CLI works from
 * any shell. A caller that names one uses its own, and is warned of any difference from the record.
 */

import { CATALOG_VAR, HANDLERS_VAR } from '../config/catalog-source.js';
import type { Config } from '../config/config.js';
import type { Queues } from '../jobs/queues.js';
import { catalogDifference, catalogOf, readCatalog, withRecordedKinds } from '../schedules/catalog-record.js';

/** True when the environment says where the kinds come from. */
export function namesCatalog(env: NodeJS.ProcessEnv): boolean {
  return Boolean(env[HANDLERS_VAR]?.trim() || env[CATALOG_VAR]?.trim());
}

export async function commandCatalog(
  queues: Queues,
  config: Config,
  warn: (line: string) => void,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Config> {
  const rec = await readCatalog(queues.conn, config.prefix);
  if (!rec) return config;
  if (!namesCatalog(env)) {
    const recorded = withRecordedKinds(config, rec);
    if (recorded) return recorded;
    warn(
      `warning: the catalog recorded in Redis has no settings (written by an older producer): using this environment's; set ${HANDLERS_VAR} or ${CATALOG_VAR} as the service does`,
    );
    return config;
  }
  const diff = catalogDifference(catalogOf(config), rec.kinds);
  if (diff.length > 0) {
    const at = new Date(rec.at).toISOString().replace(/\.\d{3}Z$/, 'Z');
    warn(
      `warning: this environment's catalog differs from the one the producers recorded in Redis at ${at} (${diff.join('; ')}); using this environment's`,
    );
  }
  return config;
}
