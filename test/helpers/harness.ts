/** An in-process runtime on the test Redis under a fresh prefix, removed again by `dispose`. */
import type { Config } from '../../src/config.js';
import { createLogger, type Logger } from '../../src/logger.js';
import { createRuntime, type Runtime } from '../../src/runtime.js';
import { deletePrefix, newPrefix, testConfig, testRedis } from './redis.js';

export interface Harness extends Runtime {
  prefix: string;
  dispose(): Promise<void>;
}

export async function harness(env: Record<string, string> = {}, opts: { prefix?: string; log?: Logger } = {}): Promise<Harness> {
  const prefix = opts.prefix ?? newPrefix();
  const config: Config = testConfig(prefix, env);
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
