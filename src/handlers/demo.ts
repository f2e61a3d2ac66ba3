/**
 * Demo mode: simulated users and handlers with realistic latency and a failure rate, so `npm start`
 * shows the whole flow (ticks, jobs, retries, dead letters) with no Spotter at all.
 */
import { PermanentError } from '../jobs/errors.js';
import { WORK_QUEUES, type WorkQueue } from '../jobs/registry.js';
import { type Handler, type Handlers, paginate } from './types.js';

const LATENCY_MS: Record<WorkQueue, [number, number]> = {
  sync: [150, 900],
  enrichment: [300, 1500],
  writeback: [100, 600],
};

export function demoUserIds(count: number): string[] {
  const width = String(count).length;
  return Array.from({ length: count }, (_, i) => `demo-${String(i + 1).padStart(width, '0')}`);
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

export function demoHandlers(opts: { users: number; failureRate: number; random?: () => number }): Handlers {
  const random = opts.random ?? Math.random;
  const make =
    (queue: WorkQueue): Handler =>
    async (userId, ctx) => {
      const [lo, hi] = LATENCY_MS[queue];
      await sleep(lo + random() * (hi - lo), ctx.signal);
      await ctx.progress(100);
      if (random() < opts.failureRate) {
        // One failure in five is the kind no retry can mend; the rest are passing provider trouble.
        if (random() < 0.2) throw new PermanentError(`demo: provider rejected the token of ${userId}`);
        throw new Error(`demo: provider timed out for ${userId}`);
      }
      return { queue, userId, items: Math.floor(random() * 50) };
    };
  const ids = demoUserIds(opts.users);
  return {
    mode: 'demo',
    listUsers: (pageSize) => paginate(ids, pageSize),
    run: Object.fromEntries(WORK_QUEUES.map((q) => [q, make(q)])) as Record<WorkQueue, Handler>,
  };
}
