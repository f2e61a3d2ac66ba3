/**
 * Faults injected for real: signals to worker processes, redis-server stopped and restarted,
 * a wrong eviction policy, and secrets that must never reach a log line.
 */
import { createHmac } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { freePort } from '../src/redis/local.js';
import { readLedger } from './helpers/ledger.js';
import { useProcessScenes } from './helpers/process-scene.js';
import { privateRedis } from './helpers/redis.js';
import { runCli } from './helpers/spawn-cli.js';
import { waitFor } from './helpers/wait-for.js';

const scene = useProcessScenes();
const cleanups = { push: scene.onCleanup };

const started = (ledger: string, jobId: string) => () => readLedger(ledger).some((e) => e.event === 'start' && e.jobId === jobId);

describe('shutdown', () => {
  it('SIGTERM: takes no new job, lets the running one finish, exits 0', async () => {
    const s = scene({ FIXTURE_SLOW_MS: '1500', SPOTTER_JOBS_SHUTDOWN_TIMEOUT: '10s' });
    const w = s.start(['worker']);
    await w.waitForLog((l) => l.msg === 'worker started', 'worker started');
    const slow = await s.trigger('slow1');
    await waitFor('slow job running', started(s.ledger, slow));
    w.kill('SIGTERM');
    await w.waitForLog((l) => l.msg.startsWith('shutting down'), 'shutting down');
    const late = await s.trigger('late1');
    const { code } = await w.exited;
    expect(code).toBe(0);
    const ledger = readLedger(s.ledger);
    expect(ledger.some((e) => e.event === 'end' && e.jobId === slow)).toBe(true);
    expect(ledger.some((e) => e.jobId === late)).toBe(false);
    expect(w.logs().some((l) => l.msg === 'shut down cleanly')).toBe(true);
  });

  it('at the deadline: aborts the handler, logs the job left behind, exits 1; another worker runs it', async () => {
    const s = scene({
      FIXTURE_SLOW_MS: '30000',
      SPOTTER_JOBS_SHUTDOWN_TIMEOUT: '1s',
      SPOTTER_JOBS_LOCK_DURATION: '2s',
      SPOTTER_JOBS_STALLED_INTERVAL: '1s',
    });
    const w = s.start(['worker']);
    await w.waitForLog((l) => l.msg === 'worker started', 'worker started');
    const slow = await s.trigger('slow2');
    await waitFor('slow job running', started(s.ledger, slow));
    w.kill('SIGTERM');
    const { code } = await w.exited;
    expect(code).toBe(1);
    // It exited at the deadline, not when the 30 s handler would have ended.
    expect(readLedger(s.ledger).some((e) => e.event === 'end' && e.jobId === slow)).toBe(false);
    const deadline = w.logs().find((l) => l.msg.startsWith('shutdown deadline reached'));
    expect(deadline?.jobIds).toEqual([slow]);
    expect(readLedger(s.ledger).some((e) => e.event === 'error' && e.jobId === slow && e.aborted === true)).toBe(true);
    // Left for another worker: it runs again after the lock lapses (at-least-once), same jobId.
    const w2 = s.start(['worker'], { FIXTURE_SLOW_MS: '50' });
    await waitFor(
      'job finished by the second worker',
      () => readLedger(s.ledger).some((e) => e.event === 'end' && e.jobId === slow && e.pid === w2.pid),
      {
        timeoutMs: 20_000,
      },
    );
  });

  it('a second signal exits at once', async () => {
    const s = scene({ FIXTURE_SLOW_MS: '30000', SPOTTER_JOBS_SHUTDOWN_TIMEOUT: '25s' });
    const w = s.start(['worker']);
    await w.waitForLog((l) => l.msg === 'worker started', 'worker started');
    const slow = await s.trigger('slow3');
    await waitFor('slow job running', started(s.ledger, slow));
    w.kill('SIGTERM');
    await w.waitForLog((l) => l.msg.startsWith('shutting down'), 'shutting down');
    w.kill('SIGINT');
    const { code } = await w.exited;
    expect(code).toBe(1);
    // At once: before the 25 s shutdown deadline and before the 30 s handler ended.
    expect(w.logs().some((l) => l.msg.startsWith('shutdown deadline reached'))).toBe(false);
    expect(readLedger(s.ledger).some((e) => e.event === 'end' && e.jobId === slow)).toBe(false);
  });
});

describe('worker processes dying', () => {
  it('kill -9 a worker mid-job: another worker runs the job after the lock expires', async () => {
    // A lock of 4 s renewed every 2 s: a lock of 2 s lapsed once under a loaded CI while A still ran
    // the job, and the kill then made it a second stall, past the limit (a dead letter, not a rerun).
    const s = scene({ FIXTURE_SLOW_MS: '3000', SPOTTER_JOBS_LOCK_DURATION: '4s', SPOTTER_JOBS_STALLED_INTERVAL: '1s' });
    const a = s.start(['worker']);
    await a.waitForLog((l) => l.msg === 'worker started', 'worker A started');
    const job = await s.trigger('slow4');
    await waitFor('job running on A', started(s.ledger, job));
    const b = s.start(['worker']);
    await b.waitForLog((l) => l.msg === 'worker started', 'worker B started');
    a.kill('SIGKILL');
    await a.exited;
    // On a timeout, say where the job is: its state fields, its runs, and what the workers warned.
    let seen: unknown[] = [];
    const where = () =>
      `job completed by B; job ${JSON.stringify(seen)}, ledger ${JSON.stringify(readLedger(s.ledger).filter((e) => e.jobId === job))}, warnings ${JSON.stringify(
        [...a.logs(), ...b.logs()].filter((l) => Number(l.level) >= 40).map((l) => l.msg),
      )}`;
    await waitFor(
      where,
      async () => {
        seen = await s.conn.hmget(`${s.prefix}:sync:${job}`, 'processedOn', 'finishedOn', 'failedReason', 'stc', 'atm');
        return readLedger(s.ledger).some((e) => e.event === 'end' && e.jobId === job && e.pid === b.pid);
      },
      { timeoutMs: 20_000 },
    );
    const runs = readLedger(s.ledger).filter((e) => e.event === 'start' && e.jobId === job);
    expect(runs.map((r) => r.pid)).toEqual([a.pid, b.pid]);
  });
});

describe('Redis faults', () => {
  it('a worker waits while Redis is down and consumes again after it returns, without restart', async () => {
    const r = await privateRedis();
    cleanups.push(() => r.dispose());
    const s = scene({}, r.redis.url);
    const w = s.start(['worker']);
    await w.waitForLog((l) => l.msg === 'worker started', 'worker started');
    const before = await s.trigger('before');
    await waitFor('job before outage done', () => readLedger(s.ledger).some((e) => e.event === 'end' && e.jobId === before));
    await r.redis.stop('SIGTERM');
    await w.waitForLog((l) => l.msg.includes('Redis connection error'), 'connection error logged');
    // The outage outlasts BullMQ's drain delay (5 s), the case where a blocked fetch must be re-issued.
    await new Promise((res) => setTimeout(res, 6000));
    await r.restart();
    const after = await s.trigger('after');
    await waitFor('job after outage done', () => readLedger(s.ledger).some((e) => e.event === 'end' && e.jobId === after), {
      timeoutMs: 30_000,
    });
    expect(w.child.exitCode).toBeNull();
  });

  it("a worker's /readyz turns 503 while Redis does not answer, and back when it does", async () => {
    const r = await privateRedis();
    cleanups.push(async () => {
      r.redis.resume();
      await r.dispose();
    });
    const port = await freePort();
    const s = scene({ SPOTTER_JOBS_WORKER_HTTP_PORT: String(port) }, r.redis.url);
    const w = s.start(['worker']);
    await w.waitForLog((l) => l.msg === 'worker started', 'worker started');
    const ready = async () => (await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(5000) })).status;
    await waitFor('ready', async () => (await ready()) === 200);
    const job = await s.trigger('m1');
    await waitFor('job done', () => readLedger(s.ledger).some((e) => e.event === 'end' && e.jobId === job));
    // The ledger line is written inside the handler, just before the attempt is counted.
    await waitFor('attempt counted in /metrics', async () =>
      (await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()).includes(
        'spotter_jobs_job_attempts_total{queue="sync",outcome="completed"} 1',
      ),
    );
    r.redis.pause();
    await waitFor('not ready while Redis is paused', async () => (await ready()) === 503, { timeoutMs: 10_000 });
    r.redis.resume();
    await waitFor('ready again', async () => (await ready()) === 200, { timeoutMs: 15_000 });
    w.kill('SIGTERM');
    expect((await w.exited).code).toBe(0);
  });

  it('warns at start-up when maxmemory-policy is not noeviction', async () => {
    const r = await privateRedis({ args: ['--maxmemory-policy', 'allkeys-lru'] });
    cleanups.push(() => r.dispose());
    const s = scene({}, r.redis.url);
    const w = s.start(['worker']);
    const warn = await w.waitForLog((l) => l.policy === 'allkeys-lru', 'eviction warning');
    expect(warn.level).toBe(40);
    expect(warn.msg).toContain('noeviction');
  });
});

describe('HTTP mode end to end, and secrets', () => {
  it('drives a Spotter over HTTP and never logs a secret', async () => {
    const canaries = { redis: 'canary-redis-Zq81x', secret: 'canary-hmac-Pp20v', board: 'canary-board-Kd77w' };
    const r = await privateRedis({ args: ['--requirepass', canaries.redis] });
    cleanups.push(() => r.dispose());
    const posts: Array<{ url: string; body: string; sig: string; key: string }> = [];
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => {
        body += d;
      });
      req.on('end', () => {
        if (req.url?.startsWith('/internal/jobs/users')) {
          const cursor = new URL(req.url, 'http://x').searchParams.get('cursor');
          res.setHeader('content-type', 'application/json');
          res.end(
            JSON.stringify(
              cursor ? { users: [{ id: 'h3' }], nextCursor: null } : { users: [{ id: 'h1' }, { id: 'gone' }], nextCursor: 'p2' },
            ),
          );
          return;
        }
        posts.push({
          url: req.url ?? '',
          body,
          sig: String(req.headers['x-spotter-signature']),
          key: String(req.headers['idempotency-key']),
        });
        const user = JSON.parse(body).userId as string;
        // A 404 carrying a secret in its body: permanent, and the secret must not reach the log.
        if (user === 'gone') res.writeHead(404).end(`no user; token=${canaries.secret}`);
        else res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
      });
    });
    await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
    cleanups.push(() => new Promise<void>((res) => server.close(() => res())));
    const url = new URL(r.redis.url);
    url.password = canaries.redis;
    const s = scene(
      {
        SPOTTER_JOBS_HANDLERS: '',
        SPOTTER_URL: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        SPOTTER_JOBS_SECRET: canaries.secret,
        SPOTTER_JOBS_BOARD_PASSWORD: canaries.board,
        SPOTTER_METADATA_ENABLED: 'false',
        SPOTTER_JOBS_WRITEBACK_ENABLED: 'false',
        SPOTTER_JOBS_LOG_LEVEL: 'debug',
      },
      url.toString(),
    );
    const p = s.start(['all']);
    await waitFor('three posts', () => posts.length >= 3, { timeoutMs: 20_000 });
    await p.waitForLog((l) => l.msg === 'dead-lettered', 'the 404 user dead-lettered');
    expect(posts.map((x) => JSON.parse(x.body).userId).sort()).toEqual(['gone', 'h1', 'h3']);
    for (const post of posts) {
      const t = /t=(\d+)/.exec(post.sig)?.[1];
      const v1 = /v1=([0-9a-f]+)/.exec(post.sig)?.[1];
      expect(v1).toBe(createHmac('sha256', canaries.secret).update(`${t}.${post.body}`).digest('hex'));
      expect(post.key).toBe(JSON.parse(post.body).jobId);
    }
    p.kill('SIGTERM');
    expect((await p.exited).code).toBe(0);
    const everything = p.stdout + p.stderr;
    expect(everything).toContain('404');
    // The secret did reach a log line (in the 404 body) and was scrubbed there.
    expect(everything).toContain('token=[redacted]');
    for (const c of Object.values(canaries)) expect(everything).not.toContain(c);
    const dlq = await runCli(['dlq', 'list', '--json'], s.env);
    expect(JSON.parse(dlq.stdout)[0].failedReason).toMatch(/^permanent: POST .* answered 404/);
  });
});
