/**
 * The HTTP surface as an express app that never listens (tests drive it directly, `server.ts` binds it).
 * Probes and /metrics are open; the status page, the board and the API sit behind basic auth; no
 * cross-site request may change anything.
 */
import { randomUUID } from 'node:crypto';
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import { pinoHttp } from 'pino-http';
import type { Registry } from 'prom-client';
import type { Config } from '../config.js';
import type { Queues } from '../jobs/queues.js';
import type { Logger } from '../logger.js';
import type { DeadLetters } from '../services/dead-letters.js';
import { apiRoutes } from './api.js';
import { BOARD_PATH, boardRouter } from './board.js';
import { probeRoutes, type Readiness } from './health.js';
import { basicAuth, refuseCrossSite, refuseWrites, securityHeaders } from './security.js';
import { statusPage } from './status-page.js';

const QUIET = new Set(['/livez', '/readyz', '/healthz', '/metrics']);

function base(log: Logger): Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(
    pinoHttp({
      logger: log,
      genReqId: (req, res) => {
        const given = req.headers['x-request-id'];
        const id = typeof given === 'string' && /^[\w.-]{1,128}$/.test(given) ? given : randomUUID();
        res.setHeader('X-Request-Id', id);
        return id;
      },
      // Probes and scrapes arrive every few seconds; at info they would drown the log.
      customLogLevel: (req, res, err) => {
        if (err || res.statusCode >= 500) return 'error';
        if (QUIET.has(req.url?.split('?')[0] ?? '')) return 'debug';
        if (res.statusCode >= 400) return 'warn';
        return 'info';
      },
      serializers: {
        req: (req: { id: string; method: string; url: string }) => ({ id: req.id, method: req.method, url: req.url }),
        res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
      },
    }),
  );
  app.use(securityHeaders);
  app.use(refuseCrossSite);
  return app;
}

function errors(log: Logger) {
  return (err: Error, _req: Request, res: Response, _next: NextFunction) => {
    log.error({ err: err.message }, 'request failed');
    if (!res.headersSent) res.status(500).json({ error: 'internal error' });
  };
}

export interface AppDeps {
  config: Config;
  queues: Queues;
  deadLetters: DeadLetters;
  readiness: Readiness;
  registry: Registry;
  log: Logger;
}

/** Producer (and `all`) surface: probes, metrics, status page, Bull Board, JSON API. */
export function createApp(deps: AppDeps): Express {
  const { config, log } = deps;
  const app = base(log);
  app.use(probeRoutes(deps.readiness, deps.registry));
  const auth = basicAuth(config.http.boardUser, config.http.boardPassword);
  app.get('/', auth, statusPage(deps));
  if (config.http.readOnly) app.use(BOARD_PATH, auth, refuseWrites);
  app.use(BOARD_PATH, auth, boardRouter(deps.queues, { readOnly: config.http.readOnly }));
  app.use('/api', auth, apiRoutes(deps));
  app.use((_req, res) => {
    res.status(404).type('text/plain').send('not found');
  });
  app.use(errors(log));
  return app;
}

/** Worker surface: probes and metrics only. */
export function createProbeApp(deps: { readiness: Readiness; registry: Registry; log: Logger }): Express {
  const app = base(deps.log);
  app.use(probeRoutes(deps.readiness, deps.registry));
  app.use((_req, res) => {
    res.status(404).type('text/plain').send('not found');
  });
  app.use(errors(deps.log));
  return app;
}
