/**
 * The per-job cost of the policies, side by side at concurrency 50:
 * - bare: sync without its exclusivity group and without the history record (the work per job without them);
 * - exclusive: as shipped, sync alone in its group (the lane: no per-user keys);
 * - shared: as shipped while write-back is active in the group too, so sync takes per-user keys;
 * - none: without the exclusivity group (history on); and plain BullMQ.
 */
import { Redis } from 'ioredis';
import { UserHistory } from '../../src/services/user-history.js';
import { Exclusivity } from '../../src/workers/exclusivity.js';
import { drainInProcess } from '../lib/drain-in-process.js';
import { prefix } from '../lib/prefix.js';
import { flush, historyMemory } from '../lib/redis.js';
import type { BenchContext, Scenario } from '../lib/scenario.js';
import { stats } from '../lib/stats.js';

const CONCURRENCY = 50;
type Variant = 'bullmq' | 'bare' | 'exclusive' | 'shared' | 'none';

export const policies: Scenario = {
  name: 'policies',
  async run(ctx) {
    const { conn, reps, sizes, log } = ctx;
    const runs: Record<Variant, number[]> = { bare: [], exclusive: [], shared: [], none: [], bullmq: [] };
    let historyBytes = 0;
    for (let i = 0; i < reps; i++) {
      for (const variant of ['bullmq', 'bare', 'exclusive', 'shared', 'none'] as const) {
        await flush(conn);
        const p = prefix('pol');
        runs[variant].push(await drainVariant(ctx, variant, p));
        if (variant === 'exclusive') {
          const h = await historyMemory(conn, p);
          if (h.records) historyBytes = h.bytes / h.records;
        }
      }
    }
    ctx.red.policies = {
      concurrency: CONCURRENCY,
      jobs: sizes.throughputJobs,
      bare: stats(runs.bare),
      exclusive: stats(runs.exclusive),
      shared: stats(runs.shared),
      none: stats(runs.none),
      bullmq: stats(runs.bullmq),
      historyBytesPerUser: historyBytes,
    };
    log(
      `policies c=${CONCURRENCY}: bare ${stats(runs.bare).median.toFixed(0)}/s, as shipped ${stats(runs.exclusive).median.toFixed(0)}/s, shared group ${stats(runs.shared).median.toFixed(0)}/s, no exclusivity ${stats(runs.none).median.toFixed(0)}/s, bullmq ${stats(runs.bullmq).median.toFixed(0)}/s; history ${historyBytes.toFixed(0)} B/user`,
    );
  },
};

/** One variant's drain of the throughput jobs; returns jobs/s. */
async function drainVariant({ conn, url, sizes }: BenchContext, variant: Variant, p: string): Promise<number> {
  const side = variant === 'bullmq' ? 'bullmq' : 'spotter';
  const record = UserHistory.prototype.record;
  if (variant === 'bare') UserHistory.prototype.record = () => {};
  // Another process's write-back, active in the group: one of its jobs every 200 ms.
  let writeBack: NodeJS.Timeout | undefined;
  const other = variant === 'shared' ? new Redis(url, { maxRetriesPerRequest: null }) : undefined;
  const peer = other && new Exclusivity(other, p, 30_000);
  if (peer) {
    const run = async () => (await peer.enter('playlists', 'write-back', 'nobody', 'wb'))?.release();
    await run();
    // Its last call may still be on the wire when the connection closes below.
    writeBack = setInterval(() => void run().catch(() => {}), 200);
  }
  try {
    const ms = await drainInProcess(
      side,
      conn,
      url,
      p,
      sizes.throughputJobs,
      CONCURRENCY,
      variant === 'none' || variant === 'bare' ? { SPOTTER_JOBS_SYNC_EXCLUSIVE: 'none' } : {},
    );
    return sizes.throughputJobs / (ms / 1000);
  } finally {
    UserHistory.prototype.record = record;
    clearInterval(writeBack);
    await peer?.close();
    other?.disconnect();
  }
}
