import { createServer as createHttp } from 'node:http';
import { type AddressInfo, createServer, Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/wait-for.js';
import { range, report, Scene } from './scene.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A TCP proxy on loopback that delays every chunk by `delayMs` and can drop all connections. */
async function proxy(targetPort: number) {
  const sockets = new Set<Socket>();
  let delayMs = 0;
  const server = createServer((client) => {
    const upstream = new Socket();
    upstream.connect(targetPort, '127.0.0.1');
    sockets.add(client);
    sockets.add(upstream);
    const pipe = (from: Socket, to: Socket) =>
      from.on('data', (d) => {
        if (delayMs > 0) setTimeout(() => to.writable && to.write(d), delayMs);
        else if (to.writable) to.write(d);
      });
    pipe(client, upstream);
    pipe(upstream, client);
    const close = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('close', close).on('error', close);
    upstream.on('close', close).on('error', close);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    setDelay: (ms: number) => {
      delayMs = ms;
    },
    dropAll: () => {
      for (const s of sockets) s.destroy();
    },
    close: () =>
      new Promise<void>((r) => {
        for (const sock of sockets) sock.destroy();
        server.close(() => r());
      }),
  };
}

describe('network', () => {
  it('a TCP proxy adding 200 ms latency, then dropping every connection', async () => {
    const s = await new Scene({ FIXTURE_WORK_MS: '10', SPOTTER_JOBS_SYNC_CONCURRENCY: '10' }).start();
    cleanups.push(() => s.dispose());
    const px = await proxy(s.redis.opts.port);
    cleanups.push(() => px.close());
    const viaProxy = { REDIS_URL: `redis://127.0.0.1:${px.port}` };
    await s.worker(viaProxy);
    const ids = await s.add(range('n', 300));
    await waitFor('some done', () => s.completed().size >= 50);
    px.setDelay(200);
    await waitFor('progress under latency', () => s.completed().size >= 100, { timeoutMs: 30_000 });
    px.setDelay(0);
    px.dropAll();
    const droppedAt = Date.now();
    const recoveryMs = await s.recoveredAfter(droppedAt, 30_000);
    await s.settled(ids, 60_000);
    const t = await s.tally(ids);
    const passed = t.lost === 0;
    report({
      fault: 'TCP proxy adding 200 ms latency, then dropping connections',
      jobs: ids.length,
      ...t,
      recoveryMs,
      criterion: '0 lost; consumption resumes after the drop',
      passed,
      note: 'duplicates here are jobs whose completion was cut off with the connection',
    });
    expect(t.lost).toBe(0);
  });

  it('HTTP target: timeouts, 5xx bursts, 429 with Retry-After, 4xx, connection refused', async () => {
    const seen = new Map<string, number>();
    let refusing = false;
    const server = createHttp((req, res) => {
      let body = '';
      req.on('data', (d) => {
        body += d;
      });
      req.on('end', () => {
        if (req.url?.startsWith('/internal/jobs/users')) return res.writeHead(200).end('{"users":[],"nextCursor":null}');
        const { userId } = JSON.parse(body) as { userId: string };
        const n = (seen.get(userId) ?? 0) + 1;
        seen.set(userId, n);
        const kind = userId.replace(/\d+$/, '');
        if (kind === 'timeout' && n === 1) return; // never answers the first time
        if (kind === 'burst' && n <= 2) return res.writeHead(503).end('busy');
        if (kind === 'limited' && n === 1) return res.writeHead(429, { 'retry-after': '1' }).end('slow down');
        if (kind === 'gone') return res.writeHead(404).end('no such user');
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    cleanups.push(
      () =>
        new Promise<void>((r) => {
          server.closeAllConnections();
          server.close(() => r());
        }),
    );
    const s = await new Scene({
      SPOTTER_JOBS_HANDLERS: '',
      SPOTTER_URL: `http://127.0.0.1:${port}`,
      SPOTTER_JOBS_SYNC_TIMEOUT: '500ms',
      SPOTTER_JOBS_BACKOFF: '200ms',
    }).start();
    cleanups.push(() => s.dispose());
    const users = [...range('timeout', 3), ...range('burst', 3), ...range('limited', 3), ...range('gone', 3), ...range('fine', 3)];
    const ids = await s.add(users);
    const w = await s.worker();
    await waitFor('4xx dead-lettered and the rest answered 2xx', async () => {
      const dead = await s.deadLettered();
      return dead.size === 3 && users.filter((u) => !u.startsWith('gone')).every((u) => (seen.get(u) ?? 0) >= 1);
    });
    // Everything so far settles: completed (2xx after retries) or dead-lettered (404).
    const completedIds = () =>
      new Set(
        w
          .logs()
          .filter((l) => l.msg === 'job completed')
          .map((l) => String(l.jobId)),
      );
    await waitFor('all settled', async () => {
      const done = completedIds();
      const dead = await s.deadLettered();
      return ids.every((id) => done.has(id) || dead.has(id));
    });
    // Connection refused: the target goes away, a job is added, then the target comes back.
    refusing = true;
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
    const [late] = await s.add(['late1']);
    await waitFor('a refused attempt logged', () => w.logs().some((l) => l.msg === 'job failed; will retry' && String(l.jobId) === late), {
      timeoutMs: 10_000,
    });
    await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
    refusing = false;
    await waitFor('late job done after the target returned', () => completedIds().has(late as string), { timeoutMs: 20_000 });
    const dead = await s.deadLettered();
    const all = [...ids, late as string];
    const lost = all.filter((id) => !completedIds().has(id) && !dead.has(id)).length;
    const expectations =
      [...dead.values()].every((d) => /^permanent: POST .* answered 404/.test(d.failedReason) && d.attemptsMade === 1) &&
      users.filter((u) => u.startsWith('timeout')).every((u) => seen.get(u) === 2) &&
      users.filter((u) => u.startsWith('burst')).every((u) => seen.get(u) === 3) &&
      users.filter((u) => u.startsWith('limited')).every((u) => seen.get(u) === 2);
    const passed = lost === 0 && expectations && !refusing;
    report({
      fault: 'HTTP target: timeouts, 5xx bursts, 429 + Retry-After, 4xx, connection refused',
      jobs: all.length,
      lost,
      duplicates: 0,
      criterion: 'timeouts, 5xx and refused connections retried; 429 retried after Retry-After; 4xx dead-lettered at once; nothing lost',
      passed,
      note: `dead letters: ${dead.size} (the 404s)`,
    });
    expect(lost).toBe(0);
    expect(expectations).toBe(true);
  });
});
