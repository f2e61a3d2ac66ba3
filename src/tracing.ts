/**
 * OpenTelemetry traces, off unless the standard OTEL_* variables ask for them (config.tracing).
 * BullMQ's own telemetry (bullmq-otel) makes the spans of adds and job attempts and carries the trace
 * context inside each job, so a user's job is a child of the fan-out page that added it, itself a
 * child of its tick. This file adds what BullMQ cannot know: the tick and page spans, and the kind,
 * subject and outcome on every attempt. Job data never becomes an attribute.
 */
import { type Span, trace } from '@opentelemetry/api';
import type { Telemetry } from 'bullmq';
import type { Config } from './config.js';
import type { Logger } from './logger.js';

/** The tracer of spotter-jobs' own spans; a no-op while no SDK is registered. */
export const tracer = trace.getTracer('spotter-jobs');

/** What Queue and Worker options get: `{ telemetry }` when tracing is on, nothing otherwise. */
let bullmq: { telemetry?: Telemetry } = {};
export function telemetryOption(): { telemetry?: Telemetry } {
  return bullmq;
}

/** The span BullMQ opened for this job attempt or tick, if tracing is on. */
export function activeSpan(): Span | undefined {
  return trace.getActiveSpan();
}

/**
 * Starts the SDK (exporter, protocol, endpoint, sampler from OTEL_*) and hands BullMQ its telemetry.
 * Returns the flush-and-stop routine for the process' shutdown. Loaded lazily: a process without
 * tracing does not even load the SDK.
 */
export async function startTracing(config: Config, role: string, log: Logger): Promise<() => Promise<void>> {
  if (!config.tracing.enabled) return async () => {};
  const [{ NodeSDK }, { BullMQOtel }, { resourceFromAttributes }] = await Promise.all([
    import('@opentelemetry/sdk-node'),
    import('bullmq-otel'),
    import('@opentelemetry/resources'),
  ]);
  const sdk = new NodeSDK({
    serviceName: config.tracing.serviceName,
    resource: resourceFromAttributes({ 'spotter_jobs.role': role }),
    // Only spans of spotter-jobs and BullMQ: no auto-instrumentation of every module the process loads.
    instrumentations: [],
  });
  sdk.start();
  bullmq = { telemetry: new BullMQOtel({ tracerName: 'bullmq' }) };
  log.info({ serviceName: config.tracing.serviceName }, 'OpenTelemetry tracing on');
  return async () => {
    bullmq = {};
    await sdk.shutdown().catch((err: Error) => log.warn({ err: err.message }, 'could not flush the last traces'));
  };
}
