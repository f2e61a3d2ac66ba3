/** Adding one tick's jobs: spotter-jobs through its fan-out, plain BullMQ with addBulk. */
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { KindConfig } from '../../src/config/kind-config.js';
import { paginate } from '../../src/handlers/types.js';
import { Queues } from '../../src/jobs/queues.js';
import { userJobId } from '../../src/jobs/registry.js';
import { fanOut } from '../../src/producers/fan-out.js';
import { createLogger } from '../../src/telemetry/logger.js';
import { now } from './clock.js';
import { configFor, users } from './spotter.js';

export type AddVariant = 'plain' | 'ids' | 'idsAndCoalescing';

/** Adds `n` jobs the way each side does: spotter through its fan-out, the baseline with plain addBulk. */
export async function addJobs(side: 'spotter' | 'bullmq', conn: Redis, url: string, p: string, n: number): Promise<number> {
  const t0 = now();
  if (side === 'spotter') {
    const config = configFor(url, p);
    const queues = new Queues(conn, config, createLogger({ level: 'silent' }));
    const ids = users(n);
    await fanOut(
      {
        queues,
        config,
        log: createLogger({ level: 'silent' }),
        handlers: { mode: 'module', listUsers: (s) => paginate(ids, s), run: {} as never },
      },
      { kind: config.kinds.sync as KindConfig, tickId: `repeat:sync:${Date.now()}`, scheduledFor: Date.now(), spreadMs: 0 },
    );
    await queues.close();
  } else {
    await plainAddBulk(conn, p, n, 'plain');
  }
  return now() - t0;
}

/** Plain BullMQ `addBulk` in pages of 1,000, optionally with spotter-jobs' ids and coalescing. */
export async function plainAddBulk(conn: Redis, p: string, n: number, variant: AddVariant): Promise<void> {
  const q = new Queue('sync', { connection: conn, prefix: p });
  const at = Date.now();
  for (let i = 0; i < n; i += 1000) {
    const chunk = [];
    for (let j = i; j < Math.min(n, i + 1000); j++) {
      chunk.push({
        name: 'user',
        data: { userId: `u${j}`, scheduledFor: at, tick: `repeat:sync:${at}` },
        opts: {
          attempts: 5,
          backoff: { type: 'exponential', delay: 30_000 },
          removeOnComplete: { age: 86_400, count: 100_000_000 },
          removeOnFail: { age: 604_800 },
          ...(variant !== 'plain' ? { jobId: userJobId(`repeat:sync:${at}`, `u${j}`) } : {}),
          ...(variant === 'idsAndCoalescing' ? { deduplication: { id: `u${j}`, keepLastIfActive: true } } : {}),
        },
      });
    }
    await q.addBulk(chunk);
  }
  await q.close();
}
