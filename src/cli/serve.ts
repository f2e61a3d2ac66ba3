/** `producer`, `worker` and `all`: the long-running roles, each with one shutdown routine. */
import { resolve } from 'node:path';
import type { Config } from '../config.js';
import { redactUrl } from '../config.js';
import { WORK_QUEUES, type WorkQueue } from '../jobs/registry.js';
import { LocalRedis } from '../local-redis.js';
import { startProducer } from '../producers/main.js';
import { answers, assertReachable } from '../redis.js';
import { createRuntime, makeLogger } from '../runtime.js';
import { startWorker } from '../workers/main.js';

export type Role = 'producer' | 'worker' | 'all';

export async function serve(config: Config, role: Role, queueNames: readonly WorkQueue[] = WORK_QUEUES): Promise<void> {
  const log = makeLogger(config).child({ role });
  let local: LocalRedis | undefined;
  if (role === 'all' && !config.redisUrlSet && !(await answers(config.redisUrl))) {
    // `npm start` on a bare machine: bring a private Redis, with AOF so data survives restarts.
    const u = new URL(config.redisUrl);
    local = new LocalRedis({ port: Number(u.port || 6379), host: u.hostname, dir: resolve('.data/redis') });
    await local.start();
    log.info(
      { redis: redactUrl(config.redisUrl), dir: local.opts.dir, pid: local.pid },
      'no Redis was running: started a private redis-server (data in .data/redis)',
    );
  }
  if (role !== 'worker') {
    // Producers fail fast: a schedule that cannot be reconciled is worse than a clear exit.
    await assertReachable(config.redisUrl);
  }
  const rt = await createRuntime(config, role, log);
  if (local) {
    const l = local;
    // Registered first, so it is closed last, after everything that talks to it.
    rt.lifecycle.add({ name: 'local-redis', close: () => l.stop() });
  }
  rt.lifecycle.installSignalHandlers();
  try {
    if (role !== 'worker') await startProducer(rt, { retention: true });
    if (role !== 'producer') await startWorker(rt, queueNames, { retention: role === 'worker' });
  } catch (err) {
    await rt.lifecycle.shutdown();
    await local?.stop();
    throw err;
  }
}
