/**
 * OpenTelemetry traces: off by default, on with the standard OTEL_* variables. A tiny OTLP/HTTP
 * receiver on loopback takes what a real producer and worker export, and the test walks one user's
 * job attempt back through its fan-out page to the tick that produced it.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load.js';
import { configError } from './helpers/config-error.js';
import { useProcessScenes } from './helpers/process-scene.js';
import { runCli } from './helpers/spawn-cli.js';
import { waitFor } from './helpers/wait-for.js';

interface OtlpValue {
  stringValue?: string;
  intValue?: string | number;
  boolValue?: boolean;
  doubleValue?: number;
}
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes?: { key: string; value: OtlpValue }[];
}
interface Span extends Omit<OtlpSpan, 'attributes'> {
  attributes: Record<string, string | number | boolean | undefined>;
  service?: string;
}

/** An OTLP/HTTP (JSON) traces endpoint that keeps every span it is sent. */
async function otlpReceiver(): Promise<{ url: string; spans: Span[]; server: Server }> {
  const spans: Span[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => {
      body += d.toString();
    });
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== '/v1/traces' || !String(req.headers['content-type']).includes('json')) {
        res.writeHead(415).end();
        return;
      }
      const msg = JSON.parse(body) as {
        resourceSpans: {
          resource: { attributes: { key: string; value: OtlpValue }[] };
          scopeSpans: { spans: OtlpSpan[] }[];
        }[];
      };
      for (const rs of msg.resourceSpans) {
        const service = rs.resource.attributes.find((a) => a.key === 'service.name')?.value.stringValue;
        for (const ss of rs.scopeSpans)
          for (const s of ss.spans) {
            const attributes = Object.fromEntries(
              (s.attributes ?? []).map((a) => [a.key, a.value.stringValue ?? a.value.boolValue ?? a.value.doubleValue ?? a.value.intValue]),
            );
            spans.push({ ...s, attributes, service });
          }
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, spans, server };
}

describe('tracing configuration', () => {
  it('is off by default and with OTEL_SDK_DISABLED, on with an OTLP endpoint or a traces exporter', () => {
    expect(loadConfig({}).tracing).toEqual({ enabled: false, serviceName: 'spotter-jobs' });
    expect(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' }).tracing.enabled).toBe(true);
    expect(loadConfig({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://127.0.0.1:4318/v1/traces' }).tracing.enabled).toBe(true);
    expect(loadConfig({ OTEL_TRACES_EXPORTER: 'console' }).tracing.enabled).toBe(true);
    expect(loadConfig({ OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' }).tracing.enabled).toBe(false);
    expect(loadConfig({ OTEL_SDK_DISABLED: 'true', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' }).tracing.enabled).toBe(false);
    expect(loadConfig({ OTEL_TRACES_EXPORTER: 'otlp', OTEL_SERVICE_NAME: 'jobs-eu' }).tracing).toEqual({
      enabled: true,
      serviceName: 'jobs-eu',
    });
  });

  it('stops start-up naming the variable when a value is wrong', () => {
    for (const [variable, value, expected] of [
      ['OTEL_EXPORTER_OTLP_ENDPOINT', 'collector:4318', /http/],
      ['OTEL_TRACES_EXPORTER', 'jaeger', /otlp, console/],
      ['OTEL_EXPORTER_OTLP_PROTOCOL', 'udp', /http\/protobuf/],
      ['OTEL_TRACES_SAMPLER', 'sometimes', /parentbased_always_on/],
      ['OTEL_TRACES_SAMPLER_ARG', '1.5', /from 0 to 1/],
      ['OTEL_EXPORTER_OTLP_HEADERS', 'Authorization Bearer abc', /key=value/],
      ['OTEL_EXPORTER_OTLP_TRACES_HEADERS', 'x-team=%E0%A4%A', /key=value/],
    ] as const) {
      const err = configError({ [variable]: value });
      expect(err.variable).toBe(variable);
      expect(err.message).toMatch(expected);
    }
  });

  it('takes the samplers and headers the SDK knows', () => {
    expect(() =>
      loadConfig({
        OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
        OTEL_TRACES_SAMPLER_ARG: '0.25',
        OTEL_EXPORTER_OTLP_HEADERS: 'Authorization=Bearer%20abc, x-team=jobs',
      }),
    ).not.toThrow();
  });

  it('exits 78 naming a bogus sampler', async () => {
    const r = await runCli(['status'], { OTEL_TRACES_SAMPLER: 'sometimes', REDIS_URL: 'redis://127.0.0.1:1' });
    expect(r.code, r.stderr).toBe(78);
    expect(r.stderr).toMatch(/OTEL_TRACES_SAMPLER/);
  });
});

describe('traces of a real producer and worker', () => {
  const scene = useProcessScenes();
  let receiver: Awaited<ReturnType<typeof otlpReceiver>> | undefined;
  afterEach(async () => {
    await new Promise((r) => receiver?.server.close(r));
  });

  it('link each user job attempt to the fan-out page and the tick that produced it, with kind, user and outcome', async () => {
    receiver = await otlpReceiver();
    const otel = {
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_BSP_SCHEDULE_DELAY: '200',
      OTEL_SERVICE_NAME: 'spotter-jobs-test',
    };
    const s = scene({
      FIXTURE_USER_IDS: 'u1,u2,perm1',
      SPOTTER_JOBS_FANOUT_PAGE: '2',
      SPOTTER_JOBS_ATTEMPTS: '1',
      SPOTTER_SYNC_INTERVAL: '1s',
      ...otel,
    });
    const producer = s.start(['producer']);
    const worker = s.start(['worker', '--queues', 'sync']);
    await producer.waitForLog((l) => l.msg === 'OpenTelemetry tracing on', 'tracing on in the producer');
    await worker.waitForLog((l) => l.msg === 'worker started', 'worker started');
    const r = await runCli(['trigger', 'sync', '--json'], s.env);
    expect(r.code, r.stderr).toBe(0);

    const spans = receiver.spans;
    const attempt = (user: string) => spans.find((x) => x.attributes['spotter.user_id'] === user && x.attributes['spotter.outcome']);
    await waitFor('the attempts of u1, u2 and perm1 exported', () => attempt('u1') && attempt('u2') && attempt('perm1'), {
      timeoutMs: 30_000,
    });
    const byId = new Map(spans.map((x) => [x.spanId, x]));
    const ancestors = (x: Span) => {
      const out: Span[] = [];
      for (let p = x.parentSpanId ? byId.get(x.parentSpanId) : undefined; p; p = p.parentSpanId ? byId.get(p.parentSpanId) : undefined)
        out.push(p);
      return out;
    };
    for (const [user, outcome] of [
      ['u1', 'completed'],
      ['u2', 'completed'],
      ['perm1', 'dead_letter'],
    ] as const) {
      const a = attempt(user) as Span;
      expect(a.service).toBe('spotter-jobs-test');
      expect(a.attributes).toMatchObject({
        'spotter.kind': 'sync',
        'spotter.outcome': outcome,
        'spotter.attempt': 1,
        'bullmq.queue.name': 'sync',
      });
      // Worker's attempt → BullMQ's add in the producer → the fan-out page → the tick: one trace.
      const chain = ancestors(a);
      expect(chain.map((x) => x.name)).toContain('fan-out page');
      const tick = chain.at(-1) as Span;
      expect(tick.name).toBe('tick sync');
      expect(tick.attributes).toMatchObject({ 'spotter.schedule': 'sync', 'spotter.outcome': 'ok', 'spotter.tick.users': 3 });
      expect(a.attributes['spotter.tick_id']).toBe(tick.attributes['spotter.tick_id']);
      expect(new Set([a, ...chain].map((x) => x.traceId)).size).toBe(1);
      // Two users per page: the tick has a span for each of its two pages.
      await waitFor(
        'both pages of the tick exported',
        () => spans.filter((x) => x.name === 'fan-out page' && x.parentSpanId === tick.spanId).length === 2,
      );
      const pages = spans.filter((x) => x.name === 'fan-out page' && x.parentSpanId === tick.spanId);
      expect(pages.map((x) => x.attributes['spotter.page.users']).sort()).toEqual([1, 2]);
    }
    // Every tick is the root of a trace of its own, scheduled ones included: no trace grows for ever.
    const ticks = await waitFor('three ticks exported', () => {
      const t = spans.filter((x) => x.name === 'tick sync');
      return t.length >= 3 ? t : undefined;
    });
    for (const t of ticks) expect(t.parentSpanId ?? '').toBe('');
    expect(new Set(ticks.map((t) => t.traceId)).size).toBe(ticks.length);
    expect(attempt('perm1')?.attributes['spotter.error']).toMatch(/no such account/);
    // Job data is no attribute: nothing carries the job's scheduledFor or its JSON.
    for (const x of spans) for (const k of Object.keys(x.attributes)) expect(k).not.toMatch(/data|scheduledFor/i);
  }, 60_000);
});
