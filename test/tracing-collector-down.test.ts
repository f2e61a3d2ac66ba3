/**
 * A collector that does not answer, or refuses every export: shutdown still ends within its deadline
 * (the last spans are dropped, and the log says so), and a failed export is logged, once.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { useProcessScenes } from './helpers/process-scene.js';
import { runCli } from './helpers/spawn-cli.js';
import { waitFor } from './helpers/wait-for.js';

/** An OTLP endpoint that takes each request and then never answers it, or answers every one 400. */
async function collector(answer: 'never' | 400): Promise<{ url: string; requests: () => number; server: Server }> {
  let requests = 0;
  const server = createServer((req, res) => {
    requests++;
    req.resume();
    if (answer === 400) req.on('end', () => res.writeHead(400, { 'content-type': 'application/json' }).end('{"message":"refused"}'));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests: () => requests, server };
}

describe('an OpenTelemetry collector that is down', () => {
  const scene = useProcessScenes();
  let server: Server | undefined;
  afterEach(async () => {
    server?.closeAllConnections();
    await new Promise((r) => server?.close(r));
    server = undefined;
  });

  it('does not hold shutdown past its deadline: a worker with no job running exits 0 and says the last spans were dropped', async () => {
    const c = await collector('never');
    server = c.server;
    const s = scene({
      OTEL_EXPORTER_OTLP_ENDPOINT: c.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_BSP_SCHEDULE_DELAY: '100',
      SPOTTER_JOBS_SHUTDOWN_TIMEOUT: '2s',
    });
    const worker = s.start(['worker', '--queues', 'sync']);
    await worker.waitForLog((l) => l.msg === 'worker started', 'worker started');
    const r = await runCli(['trigger', 'sync', '--user', 'u1'], s.env);
    expect(r.code, r.stderr).toBe(0);
    // An export is under way and will never be answered.
    await waitFor('an export sent to the collector', () => c.requests() > 0);
    worker.kill('SIGTERM');
    const { code } = await worker.exited;
    expect(code, worker.stdout.slice(-3000)).toBe(0);
    expect(worker.logs().some((l) => /traces not flushed/.test(l.msg))).toBe(true);
  }, 30_000);

  it('logs a failed export once, however many fail', async () => {
    const c = await collector(400);
    server = c.server;
    const s = scene({ OTEL_EXPORTER_OTLP_ENDPOINT: c.url, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_BSP_SCHEDULE_DELAY: '50' });
    const worker = s.start(['worker', '--queues', 'sync']);
    await worker.waitForLog((l) => l.msg === 'worker started', 'worker started');
    for (const user of ['u1', 'u2', 'u3']) {
      const seen = c.requests();
      const r = await runCli(['trigger', 'sync', '--user', user], s.env);
      expect(r.code, r.stderr).toBe(0);
      await waitFor(`an export after the job of ${user}`, () => c.requests() > seen);
    }
    const failed = worker.logs().filter((l) => /could not export traces/.test(l.msg));
    expect(failed).toHaveLength(1);
    expect(JSON.stringify(failed[0])).toMatch(/400|refused|Bad Request/i);
  }, 30_000);
});
