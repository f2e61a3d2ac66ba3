/** One user's history (policies issue): from the CLI, the API and the status page, without scanning a queue. */
import { afterEach, describe, expect, it } from 'vitest';
import { PermanentError } from '../src/jobs/errors.js';
import { UserHistory, userKey } from '../src/services/user-history.js';
import { Consumers } from '../src/workers/consumer.js';
import { kinds, optionsFor, testHandlers } from './helpers/handlers.js';
import { type Harness, harness, reconcileAsProducer } from './helpers/harness.js';
import { testEnv } from './helpers/redis.js';
import { runCli } from './helpers/spawn-cli.js';
import { waitFor } from './helpers/wait-for.js';
import { serveApp } from './helpers/web.js';

const open: Array<{ dispose(): Promise<void> }> = [];
afterEach(async () => {
  for (const o of open.splice(0).reverse()) await o.dispose();
});

describe("one user's history", () => {
  it("shows each kind's last run, the pending job, the next tick and dead letters, in CLI, API and page", async () => {
    const x: Harness = await harness({ SPOTTER_JOBS_ATTEMPTS: '1' });
    open.push(x);
    await reconcileAsProducer(x);
    const c = new Consumers(
      {
        ...x,
        handlers: testHandlers([], async (_u, ctx) => {
          if (ctx.kind === 'write-back') throw new PermanentError('Navidrome refused the playlist');
          return { ok: true };
        }),
      },
      kinds(x.config, 'sync', 'write-back'),
    );
    c.start();
    open.push({ dispose: () => c.close() });
    const add = (queue: string, userId: string, jobId: string) =>
      x.queues
        .get(queue)
        .add(
          'user',
          { userId, scheduledFor: 1, tick: 't' },
          { ...optionsFor(x.config, queue), jobId, deduplication: { id: `${queue}:${userId}`, keepLastIfActive: true } },
        );
    await add('sync', 'u1', 't1__u1');
    await add('writeback', 'u1', 't1w__u1');
    await add('enrichment', 'u1', 't1e__u1'); // nothing consumes enrichment here: it stays waiting
    await waitFor('u1 ran sync and write-back', async () =>
      (await x.conn.hmget(userKey(x.prefix, 'u1'), 'sync', 'write-back')).every((v) => v !== null),
    );

    const r = await runCli(['user', 'u1', '--json'], testEnv(x.prefix));
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as { kinds: Array<Record<string, unknown>> };
    const by = Object.fromEntries(report.kinds.map((k) => [k.kind, k]));
    expect(by.sync).toMatchObject({ lastRun: { outcome: 'completed', attempts: 1, jobId: 't1__u1' }, current: null, deadLetter: null });
    expect((by.sync as { nextTick: number }).nextTick).toBe((await x.queues.schedules().getJobScheduler('sync'))?.next);
    expect(by['write-back']).toMatchObject({
      lastRun: { outcome: 'dead_letter', reason: 'permanent: Navidrome refused the playlist' },
      deadLetter: { id: 'writeback__t1w__u1', failedReason: 'permanent: Navidrome refused the playlist' },
    });
    expect(by.enrichment).toMatchObject({ lastRun: null, current: { jobId: 't1e__u1', state: 'waiting' } });
    const text = await runCli(['user', 'u1'], testEnv(x.prefix));
    expect(text.stdout).toContain('Replay with: spotter-jobs dlq replay writeback__t1w__u1');
    expect((await runCli(['user', 'not valid'], testEnv(x.prefix))).code).toBe(2);

    const web = await serveApp(x);
    const api = (await (await fetch(`${web.url}/api/users/u1`)).json()) as typeof report;
    expect(api.kinds.map((k) => k.kind)).toEqual(['sync', 'enrichment', 'write-back']);
    const page = await (await fetch(`${web.url}/?user=u1`)).text();
    expect(page).toContain('<h2>User u1</h2>');
    expect(page).toContain('writeback__t1w__u1');
    expect(page).toContain('<input name="user" value="u1"');
    expect((await fetch(`${web.url}/api/users/a%20b`)).status).toBe(400);

    // A record written by the version before the compact field still reads (it lives 24 h).
    const old = { jobId: 'old__u9', at: 1_700_000_000_000, outcome: 'failed', attempts: 2, durationMs: 40, reason: 'provider down' };
    await x.conn.hset(userKey(x.prefix, 'u9'), 'sync', JSON.stringify(old));
    const u9 = await new UserHistory(x.conn, x.config).lookup(x.queues, 'u9');
    expect(u9.find((k) => k.kind === 'sync')?.lastRun).toEqual(old);

    // Bounded: one hash per user, expiring with the user's last job.
    const ttl = await x.conn.pttl(userKey(x.prefix, 'u1'));
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(x.config.retention.completedAgeMs);
  });
});
