/**
 * `/api/subject-schedules`: what `spotter-jobs schedule …` does, over HTTP (same auth as the rest of
 * /api). POST one schedule (an object) or many (an array, at most MAX_BULK); GET lists (`kind`,
 * `user`, `item`, `limit`, `cursor`); GET, DELETE and POST `…/pause` or `…/resume` act on one.
 */
import express, { type Response, Router } from 'express';
import { z } from 'zod';
import type { Config } from '../config/config.js';
import type { Queues } from '../jobs/queues.js';
import { MAX_SCHEDULE_DATA_BYTES, ScheduleInputError } from '../schedules/subject/input.js';
import { MAX_BULK, MAX_PAGE, SubjectSchedules } from '../schedules/subject/store.js';

const listQuery = z.strictObject({
  kind: z.string().min(1).max(40).optional(),
  user: z.string().min(1).max(200).optional(),
  item: z.string().min(1).max(200).optional(),
  limit: z.coerce.number().int().min(1).max(MAX_PAGE).optional(),
  cursor: z.string().max(20).optional(),
});

function refuse(res: Response, err: unknown): void {
  if (err instanceof ScheduleInputError) {
    res.status(400).json({ error: err.message });
    return;
  }
  throw err;
}

export function subjectScheduleRoutes(deps: { config: Config; queues: Queues }): Router {
  const r = Router();
  const store = new SubjectSchedules(deps.queues.conn, deps.config);
  // A page of a bulk import is larger than any other request body: MAX_BULK schedules, each with data
  // up to its limit (counted as compact JSON; a client escaping every character as \uXXXX sends six
  // bytes for one) and a kilobyte for the rest of its fields.
  r.use('/subject-schedules', express.json({ limit: MAX_BULK * (6 * MAX_SCHEDULE_DATA_BYTES + 1024) }));

  r.post('/subject-schedules', async (req, res) => {
    try {
      if (!Array.isArray(req.body)) return res.status(201).json(await store.add(req.body ?? {}));
      if (req.body.length > MAX_BULK)
        return res.status(400).json({ error: `at most ${MAX_BULK} schedules a request, not ${req.body.length}` });
      const results = await store.addMany(req.body);
      res.status(207).json({ added: results.filter((x) => !('error' in x)).length, results });
    } catch (err) {
      refuse(res, err);
    }
  });

  r.get('/subject-schedules', async (req, res) => {
    const q = listQuery.safeParse(req.query);
    if (!q.success) return res.status(400).json({ error: `${q.error.issues[0]?.path.join('.')}: ${q.error.issues[0]?.message}` });
    try {
      const { user, item, kind } = q.data;
      if (user !== undefined || item !== undefined) {
        return res.json({ schedules: await store.ofSubject(user !== undefined ? 'user' : 'item', (user ?? item) as string, kind) });
      }
      res.json(await store.list(q.data));
    } catch (err) {
      refuse(res, err);
    }
  });

  r.get('/subject-schedules/:id', async (req, res) => {
    const v = await store.get(String(req.params.id));
    if (!v) return res.status(404).json({ error: `no schedule ${req.params.id}` });
    res.json(v);
  });

  r.delete('/subject-schedules/:id', async (req, res) => {
    if (!(await store.remove(String(req.params.id)))) return res.status(404).json({ error: `no schedule ${req.params.id}` });
    res.json({ id: req.params.id, removed: true });
  });

  for (const verb of ['pause', 'resume'] as const) {
    r.post(`/subject-schedules/:id/${verb}`, async (req, res) => {
      const v = await store[verb](String(req.params.id));
      if (!v) return res.status(404).json({ error: `no schedule ${req.params.id}` });
      res.json(v);
    });
  }
  return r;
}
