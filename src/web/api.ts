/** The JSON API: the same operations as `status`, `trigger` and `dlq`, sharing their code. */
import express, { type Request, type Response, Router } from 'express';
import { z } from 'zod';
import type { Config } from '../config/config.js';
import { parseDuration } from '../config/duration.js';
import { PermanentError } from '../jobs/errors.js';
import type { Queues } from '../jobs/queues.js';
import { kindByName, workQueues } from '../jobs/registry.js';
import { ownerReport, setWeight } from '../ops/owners.js';
import { setPaused } from '../ops/pause.js';
import { readStatus } from '../ops/status.js';
import { trigger } from '../ops/trigger.js';
import { userReport } from '../ops/user.js';
import type { DeadLetters } from '../services/dead-letters/index.js';
import { subjectScheduleRoutes } from './api-subject-schedules.js';

// Ids are only typed here: adding the job checks them, with the same reason for the API, the CLI and
// ctx.enqueue.
const runBody = z.strictObject({
  userId: z.string().optional(),
  item: z.strictObject({ id: z.string(), data: z.unknown().optional() }).optional(),
  at: z.iso.datetime({ offset: true }).optional(),
  owner: z.string().optional(),
});

function bad(res: Response, message: string): void {
  res.status(400).json({ error: message });
}

function issue(err: z.ZodError): string {
  const i = err.issues[0];
  return i ? `${i.path.join('.') || 'body'}: ${i.message}` : 'invalid request';
}

type ApiDeps = { config: Config; queues: Queues; deadLetters: DeadLetters };

export function apiRoutes(deps: { config: Config; queues: Queues; deadLetters: DeadLetters }): Router {
  const r = Router();
  r.use(subjectScheduleRoutes(deps));
  r.use(express.json({ limit: '64kb' }));
  scheduleRoutes(r, deps);
  deadLetterRoutes(r, deps);
  ownerRoutes(r, deps);
  r.use((_req, res) => {
    res.status(404).json({ error: 'not found' });
  });
  return r;
}

/** The kinds: their status, manual runs, pause and resume, and one user's report. */
function scheduleRoutes(r: Router, { config, queues, deadLetters }: ApiDeps): void {
  r.get('/schedules', async (_req, res) => {
    res.json((await readStatus(queues, config)).schedules);
  });

  // Everything `status --json` shows: the kinds, job counts, dead letters and the queues left behind.
  r.get('/status', async (_req, res) => {
    res.json({ ...(await readStatus(queues, config)), deadLetters: await deadLetters.count() });
  });

  r.post('/schedules/:name/run', async (req: Request, res: Response) => {
    const name = String(req.params.name);
    const kind = kindByName(config, name);
    if (!kind) return res.status(404).json({ error: `unknown kind "${name}"` });
    const body = runBody.safeParse(req.body ?? {});
    if (!body.success) return bad(res, issue(body.error));
    try {
      const { userId, item, at, owner } = body.data;
      const t = await trigger(queues, config, kind, { userId, item, at: at ? new Date(at) : undefined, owner });
      res.status(202).json(t);
    } catch (err) {
      if (err instanceof PermanentError) return bad(res, err.message);
      throw err;
    }
  });

  // Pause and resume, from the API (JSON) or the status page's buttons (a plain form POST, answered
  // with a redirect back to the page).
  for (const [action, paused] of [
    ['pause', true],
    ['resume', false],
  ] as const) {
    r.post(`/schedules/:name/${action}`, express.urlencoded({ extended: false, limit: '1kb' }), async (req: Request, res: Response) => {
      const name = String(req.params.name);
      const kind = kindByName(config, name);
      if (!kind?.schedule) return res.status(404).json({ error: `no scheduled kind "${name}"` });
      const changed = await setPaused(queues, kind.name, paused);
      if (req.is('application/x-www-form-urlencoded')) return res.redirect(303, '/');
      res.json({ schedule: kind.name, paused, changed });
    });
  }

  r.get('/users/:id', async (req: Request, res: Response) => {
    try {
      res.json(await userReport(queues, config, String(req.params.id)));
    } catch (err) {
      if (err instanceof PermanentError) return bad(res, err.message);
      throw err;
    }
  });
}

/** The dead letters: list, replay and purge. */
function deadLetterRoutes(r: Router, { config, deadLetters }: ApiDeps): void {
  const queueNames = workQueues(config) as [string, ...string[]];
  const replayBody = z.union([
    z.strictObject({ ids: z.array(z.string().min(1)).min(1).max(10_000) }),
    z.strictObject({ all: z.literal(true) }),
    z.strictObject({ queue: z.enum(queueNames) }),
  ]);
  const listQuery = z.object({ queue: z.enum(queueNames).optional(), limit: z.coerce.number().int().min(1).max(10_000).optional() });
  const purgeQuery = z.object({ queue: z.enum(queueNames).optional(), olderThan: z.string().optional() });

  r.get('/dead-letter', async (req, res) => {
    const q = listQuery.safeParse(req.query);
    if (!q.success) return bad(res, issue(q.error));
    res.json(await deadLetters.list({ queue: q.data.queue, limit: q.data.limit ?? 50 }));
  });

  r.post('/dead-letter/replay', async (req, res) => {
    const body = replayBody.safeParse(req.body ?? {});
    if (!body.success) return bad(res, `expected {"ids":[…]}, {"all":true} or {"queue":"${queueNames.join('|')}"}`);
    res.json(await deadLetters.replay(body.data));
  });

  r.delete('/dead-letter', async (req, res) => {
    const q = purgeQuery.safeParse(req.query);
    if (!q.success) return bad(res, issue(q.error));
    let olderThanMs: number | undefined;
    if (q.data.olderThan !== undefined) {
      olderThanMs = parseDuration(q.data.olderThan);
      if (olderThanMs === undefined) return bad(res, 'olderThan: expected a Go duration such as 168h');
    }
    res.json({ purged: await deadLetters.purge({ queue: q.data.queue, olderThanMs }) });
  });
}

/** An owner's weight in fair admission: read it, or set it (`{"weight": 2}`). */
function ownerRoutes(r: Router, { config, queues }: ApiDeps): void {
  const weightBody = z.strictObject({ weight: z.number() });
  r.get('/owners/:id', async (req, res) => {
    try {
      res.json(await ownerReport(queues, config, String(req.params.id)));
    } catch (err) {
      if (err instanceof PermanentError) return bad(res, err.message);
      throw err;
    }
  });
  r.put('/owners/:id/weight', async (req, res) => {
    const body = weightBody.safeParse(req.body ?? {});
    if (!body.success) {
      // Without a JSON content type the body is not read at all: say so rather than "weight missing".
      const how = /\bjson\b/i.test(req.headers['content-type'] ?? '') ? '' : ' (sent without Content-Type: application/json)';
      return bad(res, `expected {"weight": <number from 0.01 to 10000>}: ${issue(body.error)}${how}`);
    }
    try {
      res.json(await setWeight(queues, config, String(req.params.id), body.data.weight));
    } catch (err) {
      if (err instanceof PermanentError) return bad(res, err.message);
      throw err;
    }
  });
}
