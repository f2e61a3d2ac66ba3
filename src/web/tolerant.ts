import type { Gauge } from 'prom-client';

/**
 * A collect that cannot read Redis leaves its gauge empty instead of failing the whole scrape, so
 * /metrics keeps answering (process metrics, `spotter_jobs_redis_up 0`) through an outage.
 */
export function tolerant<T extends Gauge>(collect: (this: T) => Promise<void>) {
  return async function (this: T) {
    try {
      await collect.call(this);
    } catch {
      this.reset();
    }
  };
}
