/** A producer surface on a free loopback port, built from a harness, for HTTP-level tests. */
import { createApp } from '../../src/web/app.js';
import type { Readiness } from '../../src/web/health.js';
import { createRegistry, JobMetrics, registerClusterMetrics } from '../../src/web/metrics.js';
import { type Listening, listen } from '../../src/web/server.js';
import type { Harness } from './harness.js';

export async function serveApp(x: Harness, readiness?: Readiness): Promise<Listening & { metrics: JobMetrics }> {
  const registry = createRegistry();
  const metrics = new JobMetrics(registry);
  registerClusterMetrics(registry, x.queues, x.config);
  const app = createApp({
    config: x.config,
    queues: x.queues,
    deadLetters: x.deadLetters,
    registry,
    log: x.log,
    readiness: readiness ?? (async () => ({ ready: !x.lifecycle.draining, checks: {} })),
  });
  const l = await listen(app, '127.0.0.1', 0);
  x.lifecycle.add({ name: 'http', close: () => l.close() });
  return { ...l, metrics };
}

export const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
