/** Probes and metrics: served by producers and workers alike, without auth, never logged at info. */
import { Router } from 'express';
import type { Registry } from 'prom-client';

export interface ReadinessReport {
  ready: boolean;
  checks: Record<string, string>;
}

export type Readiness = () => Promise<ReadinessReport>;

export function probeRoutes(readiness: Readiness, registry: Registry): Router {
  const r = Router();
  const live = (_req: unknown, res: import('express').Response) => {
    res.json({ status: 'ok' });
  };
  r.get('/livez', live);
  r.get('/healthz', live);
  r.get('/readyz', async (_req, res) => {
    const report = await readiness().catch((err: Error) => ({ ready: false, checks: { error: err.message } }));
    res.status(report.ready ? 200 : 503).json({ status: report.ready ? 'ready' : 'not ready', ...report });
  });
  r.get('/metrics', async (_req, res) => {
    try {
      const body = await registry.metrics();
      res.type(registry.contentType).send(body);
    } catch (err) {
      res
        .status(503)
        .type('text/plain')
        .send(`metrics unavailable: ${(err as Error).message}`);
    }
  });
  return r;
}
