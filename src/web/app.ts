/**
 * The HTTP surface as an express app that never listens (tests drive it directly, `server.ts` binds it).
 * Probes and /metrics are open; the status page, the board and the API sit behind basic auth; no
 * cross-site request may change anything.
 */
import { randomUUID } from 'node:crypto';
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import { pinoHttp } from 'pino-http';
import type { Registry } from 'prom-client';
import type { Config } from '../config/config.js';
import type { Queues } from '../jobs/queues.js';
import { within } from '../redis/connection.js';
import type { DeadLetters } from '../services/dead-letters/index.js';
import type { Logger } from '../telemetry/logger.js';
import { apiRoutes } from './api.js';
import { BOARD_PATH, boardRouter } from './board.js';
import { probeRoutes, type Readiness } from './health.js';
import { basicAuth, loopbackHostsOnly, refuseCrossSite, refuseWrites, securityHeaders } from './security.js';
import { statusPage } from './status-page.js';

const QUIET = new Set(['/livez', '/readyz', '/healthz', '/metrics']);
/** Longest a page or API call may wait for Redis before it is answered 503. */
const REQUEST_DEADLINE_MS = 2000;

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

/** Errors a fail-fast Redis connection raises while Redis is down, paused or unreachable. */
const REDIS_DOWN =
  /Stream isn't writeable|Connection is closed|Command timed out|ECONNREFUSED|ETIMEDOUT|ENOTFOUND|EHOSTUNREACH|MaxRetriesPerRequest|Reached the max retries|connect ETIMEDOUT/;

function errors(log: Logger) {
  return (err: Error & { status?: number; type?: string }, _req: Request, res: Response, _next: NextFunction) => {
    if (res.headersSent) return;
    // A body the client got wrong (too large, not JSON): its fault, said plainly, not logged as ours.
    if (typeof err.status === 'number' && err.status >= 400 && err.status < 500) {
      const message =
        err.type === 'entity.too.large'
          ? 'request body too large'
          : err.type === 'entity.parse.failed'
            ? 'request body is not a JSON object or array (or not JSON at all)'
            : err.message;
      res.status(err.status).json({ error: message });
      return;
    }
    if (REDIS_DOWN.test(err.message)) {
      log.warn({ err: err.message }, 'request failed: Redis unavailable');
      res.status(503).json({ error: `Redis unavailable: ${err.message}` });
      return;
    }
    log.error({ err: err.message }, 'request failed');
    res.status(500).json({ error: 'internal error' });
  };
}

function refuseScheduleEdit(_req: Request, res: Response): void {
  res.status(403).json({
    error:
      'schedules come from the configuration (SPOTTER_JOBS_<KIND>_SCHEDULE, _ENABLED, or the catalog): change them there; Run now works here',
  });
}

/** 503 at once when Redis does not answer a PING within a second. */
function redisGate(queues: Queues) {
  return async (_req: Request, res: Response, next: NextFunction) => {
    try {
      await within(1000, () => queues.conn.ping());
    } catch (err) {
      res.status(503).json({ error: `Redis unavailable: ${(err as Error).message}` });
      return;
    }
    next();
  };
}

/**
 * A request that has not been answered within `ms` gets a 503: whatever it waits for (Redis, most
 * likely) is not answering, and a client is better told so than kept waiting for the whole outage.
 */
function deadline(ms: number) {
  return (_req: Request, res: Response, next: NextFunction) => {
    const timer = setTimeout(() => {
      if (!res.headersSent) res.status(503).json({ error: `Redis did not answer within ${ms} ms` });
    }, ms);
    res.on('close', () => clearTimeout(timer));
    next();
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
  if (config.http.boardPassword === undefined) app.use(loopbackHostsOnly(config.http.allowedHosts));
  app.use(probeRoutes(deps.readiness, deps.registry));
  const auth = basicAuth(config.http.boardUser, config.http.boardPassword);
  app.use(['/', BOARD_PATH, '/api'], deadline(REQUEST_DEADLINE_MS));
  app.get('/', auth, statusPage(deps));
  if (config.http.readOnly) app.use([BOARD_PATH, '/api'], auth, refuseWrites);
  // Schedules are configuration: the next reconciliation would undo an edit made here, so the board
  // may run a scheduler now but not change or remove one.
  app.patch(`${BOARD_PATH}/api/queues/:queue/job-schedulers/:id`, auth, refuseScheduleEdit);
  app.put(`${BOARD_PATH}/api/queues/:queue/job-schedulers/:id/remove`, auth, refuseScheduleEdit);
  // Bull Board answers a Redis failure with a 500 of its own; ask Redis first, so an outage is a 503.
  app.use(`${BOARD_PATH}/api`, auth, redisGate(deps.queues));
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
