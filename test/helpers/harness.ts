/** An in-process runtime on the test Redis under a fresh prefix, removed again by `dispose`. */

import type { Config } from '../../src/config/config.js';
import type { Declarations } from '../../src/config/kind-config.js';
import { loadConfig } from '../../src/config/load.js';
import { tickJobOptions } from '../../src/jobs/queues.js';
import { createRuntime, type Runtime } from '../../src/runtime/runtime.js';
import { recordCatalog } from '../../src/schedules/catalog-record.js';
import { scheduleDefinitions } from '../../src/schedules/definitions.js';
import { type ReconcileResult, reconcileSchedules } from '../../src/schedules/reconcile.js';
import { createLogger, type Logger } from '../../src/telemetry/logger.js';
import { deletePrefix, newPrefix, testEnv, testRedis } from './redis.js';

export interface Harness extends Runtime {
  prefix: string;
  dispose(): Promise<void>;
}

export async function harness(
  env: Record<string, string> = {},
  opts: { prefix?: string; log?: Logger; catalog?: Declarations } = {},
): Promise<Harness> {
  const prefix = opts.prefix ?? newPrefix();
  const config: Config = loadConfig(testEnv(prefix, env), opts.catalog);
  const rt = await createRuntime(config, 'test', opts.log ?? createLogger({ level: 'silent' }));
  return {
    ...rt,
    prefix,
    async dispose() {
      await rt.lifecycle.shutdown();
      const conn = testRedis(config.redisUrl);
      try {
        await deletePrefix(conn, prefix);
      } finally {
        conn.disconnect();
      }
    },
  };
}

/**
 * What a producer does at start for the schedules, without consuming ticks: reconcile (with `config`,
 * by default the harness's own) and record the catalog.
 */
export async function reconcileAsProducer(x: Harness, config: Config = x.config): Promise<ReconcileResult> {
  const r = await reconcileSchedules({
    conn: x.conn,
    prefix: x.prefix,
    queue: x.queues.schedules(),
    definitions: scheduleDefinitions(config),
    tickOptions: tickJobOptions(config),
    log: x.log,
  });
  await recordCatalog(x.conn, config);
  return r;
}

/** A logger whose lines the test reads back, parsed. */
export function capturingLogger(level = 'info'): { log: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const log = createLogger({ level, destination: { write: (l: string) => lines.push(JSON.parse(l)) } as unknown as NodeJS.WritableStream });
  return { log, lines };
}
