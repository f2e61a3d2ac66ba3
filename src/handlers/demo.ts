/**
 * Demo mode: simulated users and handlers with realistic latency and a failure rate, so `npm start`
 * shows the whole flow (ticks, jobs, retries, dead letters) with no Spotter at all.
 */

import type { KindConfig } from '../config/kind-config.js';
import { PermanentError } from '../jobs/errors.js';
import { type AnyHandler, type HandlerContext, type Handlers, paginate } from './types.js';

const DEFAULT_LATENCY_MS: readonly [number, number] = [100, 500];

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

export function demoHandlers(opts: { users: number; failureRate: number; kinds: readonly KindConfig[]; random?: () => number }): Handlers {
  const random = opts.random ?? Math.random;
  const work = async (kind: KindConfig, who: string, ctx: HandlerContext) => {
    const [lo, hi] = kind.demoLatencyMs ?? DEFAULT_LATENCY_MS;
    await sleep(lo + random() * (hi - lo), ctx.signal);
    await ctx.progress(100);
    if (random() < opts.failureRate) {
      // One failure in five is the kind no retry can mend; the rest are passing provider trouble.
      if (random() < 0.2) throw new PermanentError(`demo: provider rejected the token of ${who}`);
      throw new Error(`demo: provider timed out for ${who}`);
    }
    return { kind: kind.name, subject: who, items: Math.floor(random() * 50) };
  };
  const make = (kind: KindConfig): AnyHandler => {
    switch (kind.scope) {
      case 'user':
        return (userId: string, ctx: HandlerContext) => work(kind, userId, ctx);
      case 'global':
        return (ctx: HandlerContext) => work(kind, kind.name, ctx);
      case 'item':
        return (item: { id: string }, ctx: HandlerContext) => work(kind, item.id, ctx);
    }
  };
  const ids = demoUserIds(opts.users);
  return {
    mode: 'demo',
    listUsers: (pageSize) => paginate(ids, pageSize),
    run: Object.fromEntries(opts.kinds.map((k) => [k.name, make(k)])),
  };
}
