/**
 * The environment, parsed once into a frozen, typed object. A bad value stops start-up with a
 * ConfigError naming the variable, the value and the accepted form; nothing falls back silently.
 */
import type { z } from 'zod';
import { builtinCatalog, loadCatalog } from './catalog-source.js';
import type { Config, HandlerMode } from './config.js';
import { ConfigError } from './errors.js';
import {
  age,
  basicUser,
  bool,
  completedAge,
  duration,
  fanoutWindow,
  hostNames,
  hostPorts,
  httpUrl,
  int,
  level,
  nonEmpty,
  otlpHeaders,
  otlpProtocol,
  prefix,
  ratio,
  redisUrl,
  tracesExporters,
  tracesSampler,
  tz,
} from './fields.js';
import { checkFollowUps, defaultFollowUps } from './follow-ups.js';
import type { Declarations, KindConfig } from './kind-config.js';
import { kindConfig } from './kinds.js';
import { masked } from './secrets.js';
import { refuseServiceVariables, refuseUnknownVariables } from './variable-checks.js';
import { VARIABLES } from './variables.js';

const BUILTIN = builtinCatalog();

/** Reads one variable (or its default) through its parser; an empty value counts as unset. */
interface Read {
  <T>(name: string, schema: z.ZodType<T, string>): T;
  <T>(name: string, schema: z.ZodType<T, string>, optional: true): T | undefined;
}

type Get = (name: string) => string | undefined;

function readerOf(env: NodeJS.ProcessEnv): { get: Get; read: Read } {
  const get = (name: string): string | undefined => {
    const v = env[name];
    return v === undefined || v.trim() === '' ? undefined : v;
  };
  const def = (name: string) => VARIABLES.find((v) => v.name === name)?.default;
  function read<T>(name: string, schema: z.ZodType<T, string>): T;
  function read<T>(name: string, schema: z.ZodType<T, string>, optional: true): T | undefined;
  function read<T>(name: string, schema: z.ZodType<T, string>, optional = false): T | undefined {
    const raw = get(name) ?? def(name);
    if (raw === undefined) {
      if (optional) return undefined;
      throw new ConfigError(name, undefined, 'a value');
    }
    const r = schema.safeParse(raw);
    if (!r.success) throw new ConfigError(name, masked(name, get(name)), r.error.issues[0]?.message ?? 'a valid value');
    return r.data;
  }
  return { get, read };
}

/**
 * Reads `env` (process.env by default) into a frozen Config, or throws ConfigError. `catalog` is the
 * kinds' declarations (`loadSettings` reads them from the module or catalog file); by default the
 * built-in three.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, catalog: Declarations = BUILTIN): Readonly<Config> {
  const { get, read } = readerOf(env);
  const tzName = read('SPOTTER_JOBS_TZ', tz);
  const retention = retentionOf(read);
  const backoffMs = read('SPOTTER_JOBS_BACKOFF', duration());
  const kinds = kindsOf(catalog, get, read, { tzName, retention, backoffMs });
  const handlers = handlersOf(get, read);
  const config: Config = {
    ...redisOf(get, read),
    tz: tzName,
    kinds,
    ...fanoutOf(read),
    subjectSchedules: {
      windowMs: read('SPOTTER_JOBS_SCHEDULE_WINDOW', duration({ min: 1000 })),
      perSubject: read('SPOTTER_JOBS_SCHEDULES_PER_SUBJECT', int(1, 1000)),
    },
    backoffMs,
    ...durationsOf(read, retention),
    handlers,
    http: httpOf(read),
    logLevel: read('SPOTTER_JOBS_LOG_LEVEL', level),
    tracing: tracingOf(read),
  };
  refuseUnknownVariables(env, catalog);
  return deepFreeze(config);
}

function retentionOf(read: Read): Config['retention'] {
  return {
    completedAgeMs: read('SPOTTER_JOBS_COMPLETED_RETENTION', completedAge()),
    completedCount: read('SPOTTER_JOBS_COMPLETED_KEEP', int(0)),
    failedAgeMs: read('SPOTTER_JOBS_FAILED_RETENTION', age()),
    intervalMs: read('SPOTTER_JOBS_RETENTION_INTERVAL', duration({ min: 100 })),
  };
}

/** Every kind's settings, falling back to the global values where a kind says nothing. */
function kindsOf(
  catalog: Declarations,
  get: Get,
  read: Read,
  globals: { tzName: string; retention: Config['retention']; backoffMs: number },
): Record<string, KindConfig> {
  const { tzName, retention, backoffMs } = globals;
  const fallbacks = {
    tz: tzName,
    attempts: read('SPOTTER_JOBS_ATTEMPTS', int(1, 1000)),
    backoff: `${backoffMs}ms`,
    completedRetention: `${retention.completedAgeMs}ms`,
    completedKeep: String(retention.completedCount),
    failedRetention: `${retention.failedAgeMs}ms`,
    maxRetryDelayMs: read('SPOTTER_JOBS_MAX_RETRY_DELAY', duration({ min: 1 })),
    followUps: defaultFollowUps(catalog, get('SPOTTER_URL') !== undefined),
  };
  refuseServiceVariables(catalog);
  const kinds: Record<string, KindConfig> = {};
  for (const [name, entry] of Object.entries(catalog)) kinds[name] = kindConfig(name, entry, get, fallbacks);
  checkFollowUps(kinds);
  return kinds;
}

/** Exactly one handler mode: HTTP when SPOTTER_URL is set, a module when SPOTTER_JOBS_HANDLERS is, else the demo. */
function handlersOf(get: Get, read: Read): HandlerMode {
  const url = read('SPOTTER_URL', httpUrl, true);
  const modulePath = read('SPOTTER_JOBS_HANDLERS', nonEmpty, true);
  if (url && modulePath) {
    throw new ConfigError('SPOTTER_JOBS_HANDLERS', modulePath, 'unset while SPOTTER_URL is set (exactly one handler mode is active)');
  }
  const handlers: HandlerMode = url
    ? {
        kind: 'http',
        ...splitCredentials(url),
        secrets: [read('SPOTTER_JOBS_SECRET', nonEmpty, true), read('SPOTTER_JOBS_SECRET_PREVIOUS', nonEmpty, true)].filter(
          (s): s is string => s !== undefined,
        ),
      }
    : modulePath
      ? { kind: 'module', path: modulePath }
      : {
          kind: 'demo',
          users: read('SPOTTER_JOBS_DEMO_USERS', int(0, 10_000_000)),
          failureRate: read('SPOTTER_JOBS_DEMO_FAILURE_RATE', ratio),
        };
  if (!get('SPOTTER_JOBS_SECRET') && get('SPOTTER_JOBS_SECRET_PREVIOUS')) {
    throw new ConfigError('SPOTTER_JOBS_SECRET', undefined, 'a secret whenever SPOTTER_JOBS_SECRET_PREVIOUS is set');
  }
  return handlers;
}

function redisOf(get: Get, read: Read): Pick<Config, 'redisUrl' | 'redisUrlSet' | 'redisSentinels' | 'redisSentinelName' | 'prefix'> {
  return {
    redisUrl: read('REDIS_URL', redisUrl),
    redisUrlSet: get('REDIS_URL') !== undefined || get('SPOTTER_JOBS_REDIS_SENTINELS') !== undefined,
    redisSentinels: read('SPOTTER_JOBS_REDIS_SENTINELS', hostPorts, true),
    redisSentinelName: read('SPOTTER_JOBS_REDIS_SENTINEL_NAME', nonEmpty),
    prefix: read('SPOTTER_JOBS_PREFIX', prefix),
  };
}

function fanoutOf(read: Read): Pick<Config, 'fanoutPage' | 'fanoutWindow' | 'fanoutLimits'> {
  return {
    fanoutPage: read('SPOTTER_JOBS_FANOUT_PAGE', int(1, 100_000)),
    fanoutWindow: read('SPOTTER_JOBS_FANOUT_WINDOW', fanoutWindow),
    fanoutLimits: {
      emptyPages: read('SPOTTER_JOBS_FANOUT_EMPTY_PAGES', int(1, 100_000)),
      deadlineMs: read('SPOTTER_JOBS_FANOUT_DEADLINE', duration({ min: 1000 })),
    },
  };
}

/** The workers' locks and stall checks, retention and shutdown. */
function durationsOf(
  read: Read,
  retention: Config['retention'],
): Pick<
  Config,
  'lockDurationMs' | 'stalledIntervalMs' | 'maxStalledCount' | 'fetchAhead' | 'retention' | 'shutdownTimeoutMs' | 'timeoutGraceMs'
> {
  return {
    lockDurationMs: read('SPOTTER_JOBS_LOCK_DURATION', duration({ min: 1000 })),
    stalledIntervalMs: read('SPOTTER_JOBS_STALLED_INTERVAL', duration({ min: 500 })),
    maxStalledCount: read('SPOTTER_JOBS_MAX_STALLED', int(0, 100)),
    fetchAhead: read('SPOTTER_JOBS_FETCH_AHEAD', bool),
    retention,
    shutdownTimeoutMs: read('SPOTTER_JOBS_SHUTDOWN_TIMEOUT', duration({ min: 100 })),
    timeoutGraceMs: read('SPOTTER_JOBS_TIMEOUT_GRACE', duration()),
  };
}

/** The HTTP surface: where the web and worker servers listen, the board's login and the hosts it answers. */
function httpOf(read: Read): Config['http'] {
  return {
    host: read('SPOTTER_JOBS_HTTP_HOST', nonEmpty),
    port: read('SPOTTER_JOBS_HTTP_PORT', int(0, 65535)),
    workerHost: read('SPOTTER_JOBS_WORKER_HTTP_HOST', nonEmpty),
    workerPort: read('SPOTTER_JOBS_WORKER_HTTP_PORT', int(0, 65535)),
    boardUser: read('SPOTTER_JOBS_BOARD_USER', basicUser),
    boardPassword: read('SPOTTER_JOBS_BOARD_PASSWORD', nonEmpty, true),
    readOnly: read('SPOTTER_JOBS_BOARD_READ_ONLY', bool),
    allowedHosts: read('SPOTTER_JOBS_ALLOWED_HOSTS', hostNames, true) ?? [],
  };
}

/** The OTEL_* variables the service acts on, checked here so a typo stops start-up like any other. */
function tracingOf(read: Read): Config['tracing'] {
  const base = read('OTEL_EXPORTER_OTLP_ENDPOINT', httpUrl, true);
  const traces = read('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', httpUrl, true);
  const exporter = read('OTEL_TRACES_EXPORTER', tracesExporters, true);
  read('OTEL_EXPORTER_OTLP_PROTOCOL', otlpProtocol, true);
  read('OTEL_TRACES_SAMPLER', tracesSampler, true);
  read('OTEL_TRACES_SAMPLER_ARG', ratio, true);
  read('OTEL_EXPORTER_OTLP_HEADERS', otlpHeaders, true);
  read('OTEL_EXPORTER_OTLP_TRACES_HEADERS', otlpHeaders, true);
  const disabled = read('OTEL_SDK_DISABLED', bool, true) ?? false;
  const on = exporter ? !exporter.includes('none') : Boolean(base || traces);
  return { enabled: on && !disabled, serviceName: read('OTEL_SERVICE_NAME', nonEmpty, true) ?? 'spotter-jobs' };
}

/** SPOTTER_URL's user and password become a Basic authorization header; the URL keeps neither. */
function splitCredentials(url: string): { url: string; authorization?: string } {
  const u = new URL(url);
  const user = decodeURIComponent(u.username);
  const password = decodeURIComponent(u.password);
  u.username = '';
  u.password = '';
  const bare = u.toString().replace(/\/+$/, '');
  return user || password ? { url: bare, authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` } : { url: bare };
}

/** The configuration with the kinds the environment's module or catalog file declares. */
export async function loadSettings(env: NodeJS.ProcessEnv = process.env): Promise<Readonly<Config>> {
  return loadConfig(env, await loadCatalog(env));
}

function deepFreeze<T>(o: T): Readonly<T> {
  if (o && typeof o === 'object') {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}
