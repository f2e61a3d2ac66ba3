/**
 * OpenTelemetry traces, off unless the standard OTEL_* variables ask for them (config.tracing).
 * BullMQ's own telemetry (bullmq-otel) makes the spans of adds and job attempts and carries the trace
 * context inside each job, so a user's job is a child of the fan-out page that added it, itself a
 * child of its tick. This file adds what BullMQ cannot know: the tick and page spans, and the kind,
 * subject and outcome on every attempt. Job data never becomes an attribute.
 */
import { type DiagLogger, DiagLogLevel, diag, type Span, trace } from '@opentelemetry/api';
import type { Telemetry } from 'bullmq';
import type { Config } from '../config/config.js';
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
export async function startTracing(config: Config, role: string, log: Logger): Promise<(deadlineAt?: number) => Promise<void>> {
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
  // After the SDK, which sets a console logger of its own when OTEL_LOG_LEVEL is set.
  diag.setLogger(exportErrorsOnce(log), DiagLogLevel.ERROR);
  bullmq = { telemetry: new BullMQOtel({ tracerName: 'bullmq' }) };
  log.info({ serviceName: config.tracing.serviceName }, 'OpenTelemetry tracing on');
  return async (deadlineAt = Date.now() + config.shutdownTimeoutMs) => {
    bullmq = {};
    await flushBefore(sdk, deadlineAt, log);
  };
}

/** Room left for the parts that close after tracing, so the process exits before its deadline. */
const FLUSH_MARGIN_MS = 100;

/**
 * The last spans are sent at shutdown; an unreachable collector would hold it for the exporter's own
 * timeouts and retries (about 7 s), past a short SPOTTER_JOBS_SHUTDOWN_TIMEOUT. Waits until just
 * before the deadline at most, and drops what is not sent by then.
 */
async function flushBefore(sdk: { shutdown(): Promise<void> }, deadlineAt: number, log: Logger): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const budgetMs = Math.max(0, deadlineAt - Date.now() - FLUSH_MARGIN_MS);
  const outcome = await Promise.race([
    sdk.shutdown().then(
      () => 'flushed' as const,
      (err: Error) => log.warn({ err: err.message }, 'could not flush the last traces'),
    ),
    new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), budgetMs);
    }),
  ]);
  clearTimeout(timer);
  if (outcome === 'late') log.warn({ waitedMs: budgetMs }, 'traces not flushed before the shutdown deadline: the last spans are dropped');
}

/**
 * The SDK reports a failed export through its diagnostic logger, which says nothing unless one is
 * set; a collector that is down fails every export, so the first is logged and the rest are not.
 */
function exportErrorsOnce(log: Logger): DiagLogger {
  let said = false;
  const quiet = () => {};
  return {
    error: (message: string, ...args: unknown[]) => {
      if (said) return;
      said = true;
      const detail = args.map((a) => (a instanceof Error ? a.message : typeof a === 'string' ? a : JSON.stringify(a))).join(' ');
      log.warn(
        { err: `${message} ${detail}`.trim().slice(0, 1000) },
        'could not export traces (further OpenTelemetry errors in this process are not logged)',
      );
    },
    warn: quiet,
    info: quiet,
    debug: quiet,
    verbose: quiet,
  };
}
