/** An in-process runtime on the test Redis under a fresh prefix, removed again by `dispose`. */
import { type Config, loadConfig } from '../../src/config.js';
import type { Declarations } from '../../src/jobs/kinds.js';
import { createLogger, type Logger } from '../../src/logger.js';
import { createRuntime, type Runtime } from '../../src/runtime.js';
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
