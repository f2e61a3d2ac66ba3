/** One user's history: from the CLI, the API and the status page, without scanning a queue. */
import { afterEach, describe, expect, it } from 'vitest';
import { PermanentError } from '../src/jobs/errors.js';
import { historyKey } from '../src/redis/keys.js';
import { HISTORY_SHARDS, historyShard, UserHistory } from '../src/services/user-history.js';
import { Consumers } from '../src/workers/consumer.js';
import { kinds, optionsFor, testHandlers } from './helpers/handlers.js';
import { capturingLogger, type Harness, harness, reconcileAsProducer } from './helpers/harness.js';
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
          { ...optionsFor(x.config, queue), jobId, deduplication: { id: userId, keepLastIfActive: true } },
        );
    await add('sync', 'u1', 't1__u1');
    await add('writeback', 'u1', 't1w__u1');
    await add('enrichment', 'u1', 't1e__u1'); // nothing consumes enrichment here: it stays waiting
    const history = new UserHistory(x.conn, x.config);
    await waitFor(
      'u1 ran sync and write-back',
      async () => (await history.lookup(x.queues, 'u1')).filter((k) => k.lastRun !== null).length === 2,
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

    // Bounded: one field per user in the hash of this period, which expires at the end of the next.
    const period = history.periodMs;
    const p = Math.floor(Date.now() / period);
    const key = historyKey(x.prefix, 'runs', 'sync', historyShard('u1'), p);
    expect(await x.conn.hexists(key, 'u1')).toBe(1);
    const ttl = await x.conn.pttl(key);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(2 * period);
    expect(Date.now() + ttl).toBeGreaterThanOrEqual((p + 2) * period - 1000);
  });

  it('keeps one record per user and kind across periods, and reads the newest', async () => {
    // A retention of 2 s makes periods of 2 s: records move from one period's hash to the next.
    const x: Harness = await harness({ SPOTTER_JOBS_COMPLETED_RETENTION: '2s' });
    open.push(x);
    const history = new UserHistory(x.conn, x.config);
    const kind = x.config.kinds.sync;
    if (!kind) throw new Error('no sync kind');
    // Enough that one flush writes over a thousand users to a hash (the script writes them in steps).
    const users = Array.from({ length: 20_000 }, (_, i) => `user-${i}`);
    const finish = (userId: string, finishedOn: number, id: string) =>
      ({ id, data: { userId }, finishedOn, processedOn: finishedOn - 5, attemptsMade: 1 }) as unknown as Parameters<
        UserHistory['record']
      >[1];
    const period = history.periodMs;
    expect(period).toBe(2000);
    const p = Math.floor(Date.now() / period);
    for (const u of users) history.record(kind, finish(u, (p - 1) * period + 10, `old__${u}`), 'completed');
    await history.flush();
    for (const u of users) history.record(kind, finish(u, p * period + 10, `new__${u}`), 'completed');
    await history.flush();
    // Spread over the shards, each user once, in the newer period's hashes only.
    const count = async (q: number) => {
      let n = 0;
      for (let s = 0; s < HISTORY_SHARDS; s++) n += await x.conn.hlen(historyKey(x.prefix, 'runs', 'sync', s, q));
      return n;
    };
    expect(await count(p)).toBe(users.length);
    expect(await count(p - 1)).toBe(0);
    const shards = new Set(users.map(historyShard));
    expect(shards.size).toBeGreaterThan(HISTORY_SHARDS / 2);
    const u = (await history.lookup(x.queues, 'user-7')).find((k) => k.kind === 'sync');
    expect(u?.lastRun).toMatchObject({ jobId: 'new__user-7', outcome: 'completed', durationMs: 5 });
  });

  it("writes the other users' records, and says so once, when Redis refuses one hash of a flush", async () => {
    const x: Harness = await harness();
    open.push(x);
    const { log, lines } = capturingLogger();
    const history = new UserHistory(x.conn, x.config, log);
    const kind = x.config.kinds.sync;
    if (!kind) throw new Error('no sync kind');
    const period = history.periodMs;
    const p = Math.floor(Date.now() / period);
    // Users of every shard. The first one's hash is a key of another type, and it has a record from
    // the period before, which must stay; another shard's hash from the period before is refused.
    const users = Array.from({ length: 200 }, (_, i) => `user-${i}`);
    const key = (u: string, q: number) => historyKey(x.prefix, 'runs', 'sync', historyShard(u), q);
    const blocked = key('user-0', p);
    await x.conn.set(blocked, 'not a hash');
    await x.conn.hset(key('user-0', p - 1), 'user-0', 'the run before');
    const other = users.find((u) => historyShard(u) !== historyShard('user-0')) as string;
    await x.conn.set(key(other, p - 1), 'not a hash either');
    const finish = (userId: string) =>
      ({ id: `j__${userId}`, data: { userId }, finishedOn: Date.now(), processedOn: Date.now(), attemptsMade: 1 }) as unknown as Parameters<
        UserHistory['record']
      >[1];
    for (let round = 0; round < 2; round++) {
      for (const u of users) history.record(kind, finish(u), 'completed');
      await history.flush();
    }
    const written = users.filter((u) => historyShard(u) !== historyShard('user-0'));
    expect(written.length).toBeGreaterThan(100);
    const found = await Promise.all(written.map((u) => x.conn.hexists(key(u, p), u)));
    expect(found.every((f) => f === 1)).toBe(true);
    // Not written to this period, so not dropped from the one before.
    expect(await x.conn.hget(key('user-0', p - 1), 'user-0')).toBe('the run before');
    // Written, though the period before was refused: it expires all the same.
    expect(await x.conn.pttl(key(other, p))).toBeGreaterThan(0);
    const warned = lines.filter((l) => String(l.msg).startsWith('user history:'));
    expect(warned).toHaveLength(1);
    expect(warned[0]).toMatchObject({ hashes: 1 });
    expect(String(warned[0]?.err)).toContain(blocked);
  });
});
