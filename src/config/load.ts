/**
 * The environment, parsed once into a frozen, typed object. A bad value stops start-up with a
 * ConfigError naming the variable, the value and the accepted form; nothing falls back silently.
 */
import type { z } from 'zod';
import { BUILTIN_KINDS, envStemOf } from './catalog.js';
import { builtinCatalog, CATALOG_VAR, HANDLERS_VAR, loadCatalog } from './catalog-source.js';
import { ConfigError, UnknownVariableError } from './errors.js';
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
import { type Declarations, KIND_FIELDS, type KindConfig, kindConfig, kindVariable } from './kinds.js';

export type HandlerMode =
  | {
      kind: 'http';
      /** Without credentials; those travel in `authorization`, as fetch refuses URLs that carry them. */
      url: string;
      /** `Basic …` from the user and password in SPOTTER_URL, if it had them. */
      authorization?: string;
      secrets: string[];
    }
  | { kind: 'module'; path: string }
  | { kind: 'demo'; users: number; failureRate: number };

export interface Config {
  redisUrl: string;
  /** False when REDIS_URL was not set and the local default is used (npm start may then start a private server). */
  redisUrlSet: boolean;
  /** Sentinel addresses; when set, REDIS_URL supplies only credentials and database. */
  redisSentinels: ReadonlyArray<{ host: string; port: number }> | undefined;
  redisSentinelName: string;
  prefix: string;
  tz: string;
  /** Every job kind of the catalog, in catalog order, by name. */
  kinds: Readonly<Record<string, KindConfig>>;
  fanoutPage: number;
  /** Jobs a tick keeps waiting at most while it pages; `auto` derives it from the kind (windowFor). */
  fanoutWindow: number | 'auto';
  /** What ends a user listing that would never end (a tick that hits one fails with the reason). */
  fanoutLimits: { emptyPages: number; deadlineMs: number };
  /** Default first retry delay; each kind may override it. */
  backoffMs: number;
  lockDurationMs: number;
  stalledIntervalMs: number;
  maxStalledCount: number;
  retention: { completedAgeMs: number; completedCount: number; failedAgeMs: number; intervalMs: number };
  shutdownTimeoutMs: number;
  /** HTTP mode: how long a request past its kind's timeout stays open, waiting for Spotter's answer. */
  timeoutGraceMs: number;
  handlers: HandlerMode;
  http: {
    host: string;
    port: number;
    workerHost: string;
    workerPort: number;
    boardUser: string;
    boardPassword: string | undefined;
    readOnly: boolean;
    /** Loopback mode: Host names answered besides the loopback ones (DNS-rebinding guard). */
    allowedHosts: readonly string[];
  };
  logLevel: string;
  /** OpenTelemetry traces: on when an OTLP endpoint or a traces exporter is set (and the SDK not disabled). */
  tracing: { enabled: boolean; serviceName: string };
}

/** One documented environment variable; `--help` and the README list these. */
export interface Variable {
  name: string;
  default: string | undefined;
  description: string;
  roles: ReadonlyArray<'producer' | 'worker' | 'cli'>;
}

const ALL = ['producer', 'worker', 'cli'] as const;
const P = ['producer'] as const;
const W = ['worker'] as const;
const PW = ['producer', 'worker'] as const;

const BUILTIN = builtinCatalog();
const kv = (name: string, field: Parameters<typeof kindVariable>[2]) => kindVariable(name, BUILTIN_KINDS[name] ?? { scope: 'user' }, field);

export const VARIABLES: readonly Variable[] = [
  {
    name: 'REDIS_URL',
    default: 'redis://127.0.0.1:6379',
    description: 'Redis to use (redis:// or rediss://, credentials allowed)',
    roles: ALL,
  },
  {
    name: 'SPOTTER_JOBS_REDIS_SENTINELS',
    default: undefined,
    description: 'Sentinel addresses host:port,host:port (REDIS_URL then gives only credentials and db)',
    roles: ALL,
  },
  { name: 'SPOTTER_JOBS_REDIS_SENTINEL_NAME', default: 'mymaster', description: 'master name Sentinel watches', roles: ALL },
  { name: 'SPOTTER_JOBS_PREFIX', default: 'spotter', description: 'key prefix; hash-tag it ({spotter}) for Redis Cluster', roles: ALL },
  { name: 'SPOTTER_JOBS_TZ', default: 'UTC', description: 'IANA time zone for cron schedules', roles: P },
  ...Object.entries(BUILTIN_KINDS).flatMap(([k, d]): Variable[] => [
    { name: kv(k, 'schedule'), default: d.schedule, description: `${k} schedule: Go duration or 5/6-field cron`, roles: P },
    { name: kv(k, 'enabled'), default: 'true', description: `${k} schedule enabled`, roles: P },
    { name: kv(k, 'offset'), default: d.offset ?? '0s', description: `${k} stagger within its interval`, roles: P },
    { name: kv(k, 'spread'), default: '0s', description: `spread ${k} per-user jobs over this window`, roles: P },
  ]),
  { name: 'SPOTTER_JOBS_FANOUT_PAGE', default: '1000', description: 'users per page and per bulk add in a fan-out', roles: P },
  {
    name: 'SPOTTER_JOBS_FANOUT_WINDOW',
    default: 'auto',
    description:
      "at most this many of a queue's jobs wait while a tick pages (auto: 20 x the kind's concurrency, at least 1000; 0: all at once)",
    roles: P,
  },
  {
    name: 'SPOTTER_JOBS_FANOUT_EMPTY_PAGES',
    default: '50',
    description: 'a tick fails after this many empty pages in a row from a user listing that still names a next cursor',
    roles: P,
  },
  {
    name: 'SPOTTER_JOBS_FANOUT_DEADLINE',
    default: '30m',
    description: 'a tick fails after spending this long listing users and adding their jobs (waits for room in the window not counted)',
    roles: P,
  },
  ...Object.entries(BUILTIN_KINDS).flatMap(([k, d]): Variable[] => [
    { name: kv(k, 'concurrency'), default: String(d.concurrency), description: `${k} jobs at once per worker process`, roles: W },
    {
      name: kv(k, 'globalConcurrency'),
      default: undefined,
      description: `${k} jobs at once across all workers; set by producers (one unset removes the cap)`,
      roles: P,
    },
    { name: kv(k, 'rateLimit'), default: undefined, description: `${k} jobs started per window, <max>/<duration> (1/1s)`, roles: W },
    { name: kv(k, 'attempts'), default: undefined, description: `attempts for ${k} jobs (overrides SPOTTER_JOBS_ATTEMPTS)`, roles: PW },
    { name: kv(k, 'timeout'), default: d.timeout, description: `deadline of one ${k} attempt`, roles: W },
    {
      name: kv(k, 'followUps'),
      default: undefined,
      description: `kinds a ${k} job may add (comma-separated, none, any); unset: any in module mode, the catalog file's kinds in HTTP mode`,
      roles: W,
    },
  ]),
  { name: 'SPOTTER_JOBS_ATTEMPTS', default: '5', description: 'attempts per job before it is dead-lettered', roles: PW },
  { name: 'SPOTTER_JOBS_BACKOFF', default: '30s', description: 'first retry delay; doubles each attempt, with jitter', roles: W },
  {
    name: 'SPOTTER_JOBS_MAX_RETRY_DELAY',
    default: '1h',
    description:
      'longest retry delay, Retry-After included (scheduled user kinds: at most their interval); a longer Retry-After counts as a failed attempt',
    roles: W,
  },
  {
    name: 'SPOTTER_JOBS_LOCK_DURATION',
    default: '30s',
    description: "job lock; a dead worker's job runs again within this plus SPOTTER_JOBS_STALLED_INTERVAL",
    roles: PW,
  },
  { name: 'SPOTTER_JOBS_STALLED_INTERVAL', default: '30s', description: 'how often stalled jobs are looked for', roles: PW },
  {
    name: 'SPOTTER_JOBS_MAX_STALLED',
    default: '2',
    description: 'times a job may stall (its worker died) before it is dead-lettered',
    roles: W,
  },
  { name: 'SPOTTER_JOBS_COMPLETED_RETENTION', default: '24h', description: 'keep completed jobs this long', roles: PW },
  { name: 'SPOTTER_JOBS_COMPLETED_KEEP', default: '10000', description: 'keep at most this many completed jobs per queue', roles: PW },
  {
    name: 'SPOTTER_JOBS_FAILED_RETENTION',
    default: '168h',
    description: 'keep failed jobs this long (dead letters stay until purged)',
    roles: PW,
  },
  { name: 'SPOTTER_JOBS_RETENTION_INTERVAL', default: '1m', description: 'how often retention is enforced', roles: PW },
  { name: 'SPOTTER_JOBS_SHUTDOWN_TIMEOUT', default: '25s', description: 'graceful shutdown deadline', roles: PW },
  {
    name: 'SPOTTER_JOBS_TIMEOUT_GRACE',
    default: '30s',
    description: "HTTP mode: how long a request past its kind's timeout stays open, its user still held in its exclusivity group",
    roles: W,
  },
  { name: 'SPOTTER_URL', default: undefined, description: 'Spotter base URL: HTTP mode (users and work come from Spotter)', roles: PW },
  { name: 'SPOTTER_JOBS_SECRET', default: undefined, description: 'HMAC secret signing requests to Spotter', roles: W },
  { name: 'SPOTTER_JOBS_SECRET_PREVIOUS', default: undefined, description: 'previous secret, also signed with during rotation', roles: W },
  {
    name: HANDLERS_VAR,
    default: undefined,
    description: 'path of a JS module with listUsers and handlers (and optionally more kinds as `jobs`)',
    roles: ALL,
  },
  { name: CATALOG_VAR, default: undefined, description: 'HTTP mode: YAML/JSON file declaring more job kinds', roles: ALL },
  { name: 'SPOTTER_JOBS_DEMO_USERS', default: '25', description: 'demo mode: number of simulated users', roles: PW },
  { name: 'SPOTTER_JOBS_DEMO_FAILURE_RATE', default: '0.05', description: 'demo mode: share of handler runs that fail', roles: W },
  { name: 'SPOTTER_JOBS_HTTP_HOST', default: '127.0.0.1', description: 'producer HTTP address', roles: P },
  { name: 'SPOTTER_JOBS_HTTP_PORT', default: '3000', description: 'producer HTTP port', roles: P },
  {
    name: 'SPOTTER_JOBS_WORKER_HTTP_HOST',
    default: '127.0.0.1',
    description: 'worker probes/metrics address (0.0.0.0 in containers)',
    roles: W,
  },
  {
    name: 'SPOTTER_JOBS_WORKER_HTTP_PORT',
    default: '3001',
    description: 'worker probes/metrics port (0 disables; `all` serves them on SPOTTER_JOBS_HTTP_PORT)',
    roles: W,
  },
  { name: 'SPOTTER_JOBS_BOARD_USER', default: 'admin', description: 'board/API basic-auth user', roles: P },
  { name: 'SPOTTER_JOBS_BOARD_PASSWORD', default: undefined, description: 'board/API password; unset: loopback only', roles: P },
  { name: 'SPOTTER_JOBS_BOARD_READ_ONLY', default: 'false', description: 'board and API without write actions', roles: P },
  {
    name: 'SPOTTER_JOBS_ALLOWED_HOSTS',
    default: undefined,
    description: 'loopback mode: Host names answered besides localhost and loopback addresses',
    roles: P,
  },
  { name: 'SPOTTER_JOBS_LOG_LEVEL', default: 'info', description: 'pino level: fatal, error, warn, info, debug, trace', roles: ALL },
  // OpenTelemetry's own variables: any of the first three turns tracing on. The SDK reads these and
  // the rest itself; these are checked here, as the SDK replaces a value it cannot use silently.
  { name: 'OTEL_EXPORTER_OTLP_ENDPOINT', default: undefined, description: 'traces on: OTLP collector base URL', roles: PW },
  { name: 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', default: undefined, description: 'traces on: full OTLP traces URL', roles: PW },
  { name: 'OTEL_TRACES_EXPORTER', default: undefined, description: 'traces on with this exporter: otlp, console (none: off)', roles: PW },
  {
    name: 'OTEL_EXPORTER_OTLP_PROTOCOL',
    default: 'http/protobuf',
    description: 'OTLP protocol: http/protobuf, http/json, grpc',
    roles: PW,
  },
  {
    name: 'OTEL_EXPORTER_OTLP_HEADERS',
    default: undefined,
    description: 'headers of every OTLP export: key=value,key=value (values URL-encoded)',
    roles: PW,
  },
  { name: 'OTEL_EXPORTER_OTLP_TRACES_HEADERS', default: undefined, description: 'the same, for traces only', roles: PW },
  { name: 'OTEL_TRACES_SAMPLER', default: undefined, description: 'sampler (SDK default: parentbased_always_on)', roles: PW },
  { name: 'OTEL_TRACES_SAMPLER_ARG', default: undefined, description: 'ratio of the traceidratio samplers, 0 to 1', roles: PW },
  { name: 'OTEL_SERVICE_NAME', default: 'spotter-jobs', description: 'service.name of the traces', roles: PW },
  { name: 'OTEL_SDK_DISABLED', default: 'false', description: 'true turns tracing off whatever else is set', roles: PW },
];

/**
 * Reads `env` (process.env by default) into a frozen Config, or throws ConfigError. `catalog` is the
 * kinds' declarations (`loadSettings` reads them from the module or catalog file); by default the
 * built-in three.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, catalog: Declarations = BUILTIN): Readonly<Config> {
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

  const tzName = read('SPOTTER_JOBS_TZ', tz);
  const retention = {
    completedAgeMs: read('SPOTTER_JOBS_COMPLETED_RETENTION', completedAge()),
    completedCount: read('SPOTTER_JOBS_COMPLETED_KEEP', int(0)),
    failedAgeMs: read('SPOTTER_JOBS_FAILED_RETENTION', age()),
    intervalMs: read('SPOTTER_JOBS_RETENTION_INTERVAL', duration({ min: 100 })),
  };
  const backoffMs = read('SPOTTER_JOBS_BACKOFF', duration());
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

  const config: Config = {
    redisUrl: read('REDIS_URL', redisUrl),
    redisUrlSet: get('REDIS_URL') !== undefined || get('SPOTTER_JOBS_REDIS_SENTINELS') !== undefined,
    redisSentinels: read('SPOTTER_JOBS_REDIS_SENTINELS', hostPorts, true),
    redisSentinelName: read('SPOTTER_JOBS_REDIS_SENTINEL_NAME', nonEmpty),
    prefix: read('SPOTTER_JOBS_PREFIX', prefix),
    tz: tzName,
    kinds,
    fanoutPage: read('SPOTTER_JOBS_FANOUT_PAGE', int(1, 100_000)),
    fanoutWindow: read('SPOTTER_JOBS_FANOUT_WINDOW', fanoutWindow),
    fanoutLimits: {
      emptyPages: read('SPOTTER_JOBS_FANOUT_EMPTY_PAGES', int(1, 100_000)),
      deadlineMs: read('SPOTTER_JOBS_FANOUT_DEADLINE', duration({ min: 1000 })),
    },
    backoffMs,
    lockDurationMs: read('SPOTTER_JOBS_LOCK_DURATION', duration({ min: 1000 })),
    stalledIntervalMs: read('SPOTTER_JOBS_STALLED_INTERVAL', duration({ min: 500 })),
    maxStalledCount: read('SPOTTER_JOBS_MAX_STALLED', int(0, 100)),
    retention,
    shutdownTimeoutMs: read('SPOTTER_JOBS_SHUTDOWN_TIMEOUT', duration({ min: 100 })),
    timeoutGraceMs: read('SPOTTER_JOBS_TIMEOUT_GRACE', duration()),
    handlers,
    http: {
      host: read('SPOTTER_JOBS_HTTP_HOST', nonEmpty),
      port: read('SPOTTER_JOBS_HTTP_PORT', int(0, 65535)),
      workerHost: read('SPOTTER_JOBS_WORKER_HTTP_HOST', nonEmpty),
      workerPort: read('SPOTTER_JOBS_WORKER_HTTP_PORT', int(0, 65535)),
      boardUser: read('SPOTTER_JOBS_BOARD_USER', basicUser),
      boardPassword: read('SPOTTER_JOBS_BOARD_PASSWORD', nonEmpty, true),
      readOnly: read('SPOTTER_JOBS_BOARD_READ_ONLY', bool),
      allowedHosts: read('SPOTTER_JOBS_ALLOWED_HOSTS', hostNames, true) ?? [],
    },
    logLevel: read('SPOTTER_JOBS_LOG_LEVEL', level),
    tracing: tracingOf(read),
  };
  refuseUnknownVariables(env, catalog);
  return deepFreeze(config);
}

/** The OTEL_* variables the service acts on, checked here so a typo stops start-up like any other. */
function tracingOf(read: <T>(name: string, schema: z.ZodType<T, string>, optional: true) => T | undefined): Config['tracing'] {
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

/** URL-valued variables whose password must never be echoed, even in an error. */
function masked(name: string, value: string | undefined): string | undefined {
  if (value === undefined || (name !== 'REDIS_URL' && name !== 'SPOTTER_URL')) return value;
  try {
    return new URL(value).password ? redactUrl(value) : value;
  } catch {
    // Not a URL at all: nothing to find a password in, but it may still hold one; say only its shape.
    return value.includes('@') ? '<a value with credentials>' : value;
  }
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

/** Read by docker-compose.yml for the published port, not by the service. */
const COMPOSE_ONLY = ['SPOTTER_JOBS_BOARD_PORT'];
/** Kubernetes injects `<SERVICE>_SERVICE_HOST`, `<SERVICE>_PORT_6379_TCP…` for every Service, spotter-jobs-* ones included. */
const SERVICE_LINK = /_(SERVICE_HOST|SERVICE_PORT(_[A-Z0-9_]+)?|PORT(_\d+_(TCP|UDP|SCTP)(_PROTO|_PORT|_ADDR)?)?)$/;

/** A misspelled SPOTTER_JOBS_ variable would be ignored silently; refuse it, naming the closest known one. */
function refuseUnknownVariables(env: NodeJS.ProcessEnv, catalog: Declarations): void {
  const known = new Set([...VARIABLES.map((v) => v.name), ...COMPOSE_ONLY]);
  // A kind whose schedule or enabled switch keeps Spotter's own name (SPOTTER_METADATA_ENABLED) is
  // still guessed by the usual pattern (SPOTTER_JOBS_ENRICHMENT_ENABLED): point at the real one.
  const renamed = new Map<string, string>();
  for (const [name, { decl }] of Object.entries(catalog)) {
    for (const [field, suffix] of KIND_FIELDS) {
      const variable = kindVariable(name, decl, field);
      known.add(variable);
      const usual = `SPOTTER_JOBS_${envStemOf(name, decl)}_${suffix}`;
      if (usual !== variable) renamed.set(usual, variable);
    }
  }
  for (const name of Object.keys(env)) {
    if (!name.startsWith('SPOTTER_JOBS_') || known.has(name)) continue;
    if (SERVICE_LINK.test(name) && env[name]?.match(/^(tcp|udp|sctp):\/\/|^[\d.:a-f]+$/i)) continue;
    throw new UnknownVariableError(name, renamed.get(name) ?? closest(name, known));
  }
}

/** A kind named `shutdown` would read SPOTTER_JOBS_SHUTDOWN_TIMEOUT, the service's own deadline, as its timeout. */
function refuseServiceVariables(catalog: Declarations): void {
  const builtinOnes = new Set(
    Object.entries(BUILTIN_KINDS).flatMap(([name, decl]) => KIND_FIELDS.map(([field]) => kindVariable(name, decl, field))),
  );
  const own = new Set(VARIABLES.map((v) => v.name).filter((n) => !builtinOnes.has(n)));
  for (const [name, { decl, source }] of Object.entries(catalog)) {
    for (const [field] of KIND_FIELDS) {
      const variable = kindVariable(name, decl, field);
      if (own.has(variable))
        throw new ConfigError(
          `${source ?? 'built-in catalog'}: kind "${name}"`,
          name,
          `a name whose variables are its own (its field "${field}" would be read from ${variable}, a variable of the service)`,
        );
    }
  }
}

/** Levenshtein distance, for "did you mean". */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++)
      cur[j] = Math.min((prev[j] as number) + 1, (cur[j - 1] as number) + 1, (prev[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length] as number;
}

function closest(name: string, known: Set<string>): string {
  let best = '';
  let bestD = Number.POSITIVE_INFINITY;
  for (const k of known) {
    const d = distance(name, k);
    if (d < bestD) [best, bestD] = [k, d];
  }
  return best;
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

/** The secrets a log line must never show, for the logger's redaction. */
export function secretsOf(config: Config): string[] {
  const out: string[] = [];
  if (config.handlers.kind === 'http') {
    out.push(...config.handlers.secrets);
    if (config.handlers.authorization) {
      const pair = Buffer.from(config.handlers.authorization.slice('Basic '.length), 'base64').toString('utf8');
      out.push(pair.slice(pair.indexOf(':') + 1), config.handlers.authorization.slice('Basic '.length));
    }
  }
  if (config.http.boardPassword) out.push(config.http.boardPassword);
  try {
    const u = new URL(config.redisUrl);
    if (u.password) out.push(decodeURIComponent(u.password));
  } catch {
    /* validated already */
  }
  return out.filter((s) => s.length >= 4);
}

/** REDIS_URL with its password masked, for messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '<invalid url>';
  }
}
