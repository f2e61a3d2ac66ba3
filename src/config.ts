/**
 * The environment, parsed once into a frozen, typed object. A bad value stops start-up with a
 * ConfigError naming the variable, the value and the accepted form; nothing falls back silently.
 */
import { CronExpressionParser } from 'cron-parser';
import { z } from 'zod';
import { DURATION_FORM, parseDuration } from './duration.js';
import { ConfigError } from './jobs/errors.js';
import { SCHEDULE_NAMES, type ScheduleName, WORK_QUEUES, type WorkQueue } from './jobs/registry.js';

export type Interval = { every: number; pattern?: undefined } | { pattern: string; every?: undefined };

export interface ScheduleConfig {
  enabled: boolean;
  interval: Interval;
  /** As written by the operator, for status output. */
  intervalText: string;
  offsetMs: number;
  spreadMs: number;
}

export interface QueueConfig {
  concurrency: number;
  globalConcurrency: number | undefined;
  rateLimit: { max: number; durationMs: number } | undefined;
  attempts: number;
  timeoutMs: number;
}

export type HandlerMode =
  | { kind: 'http'; url: string; secrets: string[] }
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
  schedules: Record<ScheduleName, ScheduleConfig>;
  fanoutPage: number;
  queues: Record<WorkQueue, QueueConfig>;
  backoffMs: number;
  lockDurationMs: number;
  stalledIntervalMs: number;
  maxStalledCount: number;
  retention: { completedAgeMs: number; completedCount: number; failedAgeMs: number; intervalMs: number };
  shutdownTimeoutMs: number;
  handlers: HandlerMode;
  http: {
    host: string;
    port: number;
    workerHost: string;
    workerPort: number;
    boardUser: string;
    boardPassword: string | undefined;
    readOnly: boolean;
  };
  logLevel: string;
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

const SCHEDULE_VARS: Record<ScheduleName, { interval: string; enabled: string; env: string; every: string; offset: string }> = {
  sync: { interval: 'SPOTTER_SYNC_INTERVAL', enabled: 'SPOTTER_JOBS_SYNC_ENABLED', env: 'SYNC', every: '5m', offset: '0s' },
  enrichment: {
    interval: 'SPOTTER_METADATA_INTERVAL',
    enabled: 'SPOTTER_METADATA_ENABLED',
    env: 'ENRICHMENT',
    every: '1h',
    offset: '30s',
  },
  'write-back': {
    interval: 'SPOTTER_PLAYLIST_SYNC_SYNC_INTERVAL',
    enabled: 'SPOTTER_JOBS_WRITEBACK_ENABLED',
    env: 'WRITEBACK',
    every: '1h',
    offset: '1m',
  },
};

const QUEUE_DEFAULTS: Record<WorkQueue, { concurrency: number; timeout: string }> = {
  sync: { concurrency: 10, timeout: '2m' },
  enrichment: { concurrency: 5, timeout: '5m' },
  writeback: { concurrency: 5, timeout: '2m' },
};

const qv = (q: WorkQueue, what: string) => `SPOTTER_JOBS_${q.toUpperCase()}_${what}`;

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
  ...SCHEDULE_NAMES.flatMap((s): Variable[] => {
    const v = SCHEDULE_VARS[s];
    return [
      { name: v.interval, default: v.every, description: `${s} schedule: Go duration or 5/6-field cron`, roles: P },
      { name: v.enabled, default: 'true', description: `${s} schedule enabled`, roles: P },
      { name: `SPOTTER_JOBS_${v.env}_OFFSET`, default: v.offset, description: `${s} stagger within its interval`, roles: P },
      { name: `SPOTTER_JOBS_${v.env}_SPREAD`, default: '0s', description: `spread ${s} per-user jobs over this window`, roles: P },
    ];
  }),
  { name: 'SPOTTER_JOBS_FANOUT_PAGE', default: '1000', description: 'users per page and per bulk add in a fan-out', roles: P },
  ...WORK_QUEUES.flatMap((q): Variable[] => [
    {
      name: qv(q, 'CONCURRENCY'),
      default: String(QUEUE_DEFAULTS[q].concurrency),
      description: `${q} jobs at once per worker process`,
      roles: W,
    },
    { name: qv(q, 'GLOBAL_CONCURRENCY'), default: undefined, description: `${q} jobs at once across all workers`, roles: PW },
    { name: qv(q, 'RATE_LIMIT'), default: undefined, description: `${q} jobs started per window, <max>/<duration> (1/1s)`, roles: W },
    { name: qv(q, 'ATTEMPTS'), default: undefined, description: `attempts for ${q} jobs (overrides SPOTTER_JOBS_ATTEMPTS)`, roles: PW },
    { name: qv(q, 'TIMEOUT'), default: QUEUE_DEFAULTS[q].timeout, description: `HTTP handler timeout for ${q}`, roles: W },
  ]),
  { name: 'SPOTTER_JOBS_ATTEMPTS', default: '5', description: 'attempts per job before it is dead-lettered', roles: PW },
  { name: 'SPOTTER_JOBS_BACKOFF', default: '30s', description: 'first retry delay; doubles each attempt, with jitter', roles: W },
  { name: 'SPOTTER_JOBS_LOCK_DURATION', default: '30s', description: "job lock; a dead worker's job is retried after it", roles: PW },
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
  { name: 'SPOTTER_URL', default: undefined, description: 'Spotter base URL: HTTP mode (users and work come from Spotter)', roles: PW },
  { name: 'SPOTTER_JOBS_SECRET', default: undefined, description: 'HMAC secret signing requests to Spotter', roles: W },
  { name: 'SPOTTER_JOBS_SECRET_PREVIOUS', default: undefined, description: 'previous secret, also signed with during rotation', roles: W },
  {
    name: 'SPOTTER_JOBS_HANDLERS',
    default: undefined,
    description: 'path of a JS module with listUsers and per-queue handlers',
    roles: PW,
  },
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
  { name: 'SPOTTER_JOBS_WORKER_HTTP_PORT', default: '3001', description: 'worker probes/metrics port (0 disables)', roles: W },
  { name: 'SPOTTER_JOBS_BOARD_USER', default: 'admin', description: 'board/API basic-auth user', roles: P },
  { name: 'SPOTTER_JOBS_BOARD_PASSWORD', default: undefined, description: 'board/API password; unset: loopback only', roles: P },
  { name: 'SPOTTER_JOBS_BOARD_READ_ONLY', default: 'false', description: 'board without write actions', roles: P },
  { name: 'SPOTTER_JOBS_LOG_LEVEL', default: 'info', description: 'pino level: fatal, error, warn, info, debug, trace', roles: ALL },
];

// --- field parsers: each a zod schema over the raw string whose message is the accepted form ---

const str = z.string();
const duration = (opts: { min?: number } = {}) =>
  str.transform((s, ctx) => {
    const ms = parseDuration(s);
    if (ms === undefined || ms < (opts.min ?? 0)) {
      ctx.addIssue({ code: 'custom', message: opts.min ? `${DURATION_FORM}, at least ${opts.min}ms` : DURATION_FORM });
      return z.NEVER;
    }
    return ms;
  });
const bool = str.transform((s, ctx) => {
  const v = s.trim().toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(v)) return true;
  if (['false', '0', 'no', 'off'].includes(v)) return false;
  ctx.addIssue({ code: 'custom', message: 'true or false (also 1/0, yes/no, on/off)' });
  return z.NEVER;
});
const int = (min: number, max = Number.MAX_SAFE_INTEGER) =>
  str.transform((s, ctx) => {
    const t = s.trim();
    if (!/^\d+$/.test(t) || Number(t) < min || Number(t) > max) {
      ctx.addIssue({ code: 'custom', message: `a whole number from ${min} to ${max}` });
      return z.NEVER;
    }
    return Number(t);
  });
const rate = str.transform((s, ctx) => {
  const m = /^(\d+)\/(.+)$/.exec(s.trim());
  const max = m ? Number(m[1]) : 0;
  const durationMs = m ? parseDuration(m[2] as string) : undefined;
  if (!m || max < 1 || !durationMs) {
    ctx.addIssue({ code: 'custom', message: '<max>/<duration>, such as 1/1s or 100/1m' });
    return z.NEVER;
  }
  return { max, durationMs };
});
const ratio = str.transform((s, ctx) => {
  const n = Number(s.trim());
  if (s.trim() === '' || !Number.isFinite(n) || n < 0 || n > 1) {
    ctx.addIssue({ code: 'custom', message: 'a number from 0 to 1' });
    return z.NEVER;
  }
  return n;
});
const tz = str.refine((s) => {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: s });
    return true;
  } catch {
    return false;
  }
}, 'an IANA time zone such as UTC or Europe/Berlin');
const redisUrl = str.refine((s) => {
  try {
    const u = new URL(s);
    return (u.protocol === 'redis:' || u.protocol === 'rediss:') && u.hostname !== '';
  } catch {
    return false;
  }
}, 'redis://[user:password@]host[:port][/db] or rediss://…');
const httpUrl = str.refine((s) => {
  try {
    const u = new URL(s);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
}, 'an http:// or https:// URL');
const nonEmpty = str.min(1, 'a non-empty string');
const hostPorts = str.transform((s, ctx) => {
  const out: { host: string; port: number }[] = [];
  for (const part of s
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const m = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(part);
    if (!m || Number(m[2]) > 65535) {
      ctx.addIssue({ code: 'custom', message: 'comma-separated host:port pairs such as sentinel-1:26379,sentinel-2:26379' });
      return z.NEVER;
    }
    out.push({ host: (m[1] as string).replace(/^\[|\]$/g, ''), port: Number(m[2]) });
  }
  if (out.length === 0) {
    ctx.addIssue({ code: 'custom', message: 'comma-separated host:port pairs such as sentinel-1:26379,sentinel-2:26379' });
    return z.NEVER;
  }
  return out;
});
const prefix = str.regex(/^[A-Za-z0-9_{}.-]+$/, 'letters, digits, _ . - and an optional {hash tag}, no colons');
const level = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
  message: 'one of fatal, error, warn, info, debug, trace, silent',
});

/** Interval: a Go duration (at least 1s) or a 5/6-field cron expression evaluated in `tzName`. */
function parseInterval(variable: string, text: string, tzName: string): Interval {
  const form = `${DURATION_FORM} (at least 1s), or a 5- or 6-field cron expression such as "*/5 * * * *"`;
  const t = text.trim();
  const fields = t.split(/\s+/);
  if (fields.length === 5 || fields.length === 6) {
    try {
      CronExpressionParser.parse(t, { tz: tzName, strict: false });
      return { pattern: t };
    } catch {
      throw new ConfigError(variable, text, form);
    }
  }
  const ms = parseDuration(t);
  if (ms === undefined || ms < 1000) throw new ConfigError(variable, text, form);
  return { every: ms };
}

/** Reads `env` (process.env by default) into a frozen Config, or throws ConfigError. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Readonly<Config> {
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
    if (!r.success) throw new ConfigError(name, get(name), r.error.issues[0]?.message ?? 'a valid value');
    return r.data;
  }

  const tzName = read('SPOTTER_JOBS_TZ', tz);
  const schedules = {} as Record<ScheduleName, ScheduleConfig>;
  for (const s of SCHEDULE_NAMES) {
    const v = SCHEDULE_VARS[s];
    const intervalText = (get(v.interval) ?? v.every).trim();
    schedules[s] = {
      enabled: read(v.enabled, bool),
      interval: parseInterval(v.interval, intervalText, tzName),
      intervalText,
      offsetMs: read(`SPOTTER_JOBS_${v.env}_OFFSET`, duration()),
      spreadMs: read(`SPOTTER_JOBS_${v.env}_SPREAD`, duration()),
    };
    const every = schedules[s].interval.every;
    if (every !== undefined && schedules[s].offsetMs >= every) {
      throw new ConfigError(
        `SPOTTER_JOBS_${v.env}_OFFSET`,
        get(`SPOTTER_JOBS_${v.env}_OFFSET`) ?? v.offset,
        `a duration shorter than the interval (${intervalText})`,
      );
    }
  }

  const attempts = read('SPOTTER_JOBS_ATTEMPTS', int(1, 1000));
  const queues = {} as Record<WorkQueue, QueueConfig>;
  for (const q of WORK_QUEUES) {
    queues[q] = {
      concurrency: read(qv(q, 'CONCURRENCY'), int(1, 10_000)),
      globalConcurrency: read(qv(q, 'GLOBAL_CONCURRENCY'), int(1, 100_000), true),
      rateLimit: read(qv(q, 'RATE_LIMIT'), rate, true),
      attempts: read(qv(q, 'ATTEMPTS'), int(1, 1000), true) ?? attempts,
      timeoutMs: read(qv(q, 'TIMEOUT'), duration({ min: 1 })),
    };
  }

  const url = read('SPOTTER_URL', httpUrl, true);
  const modulePath = read('SPOTTER_JOBS_HANDLERS', nonEmpty, true);
  if (url && modulePath) {
    throw new ConfigError('SPOTTER_JOBS_HANDLERS', modulePath, 'unset while SPOTTER_URL is set (exactly one handler mode is active)');
  }
  const handlers: HandlerMode = url
    ? {
        kind: 'http',
        url: url.replace(/\/+$/, ''),
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
  if (handlers.kind === 'http' && handlers.secrets.length === 0 && get('SPOTTER_JOBS_SECRET_PREVIOUS')) {
    throw new ConfigError('SPOTTER_JOBS_SECRET', undefined, 'a secret whenever SPOTTER_JOBS_SECRET_PREVIOUS is set');
  }

  const config: Config = {
    redisUrl: read('REDIS_URL', redisUrl),
    redisUrlSet: get('REDIS_URL') !== undefined || get('SPOTTER_JOBS_REDIS_SENTINELS') !== undefined,
    redisSentinels: read('SPOTTER_JOBS_REDIS_SENTINELS', hostPorts, true),
    redisSentinelName: read('SPOTTER_JOBS_REDIS_SENTINEL_NAME', nonEmpty),
    prefix: read('SPOTTER_JOBS_PREFIX', prefix),
    tz: tzName,
    schedules,
    fanoutPage: read('SPOTTER_JOBS_FANOUT_PAGE', int(1, 100_000)),
    queues,
    backoffMs: read('SPOTTER_JOBS_BACKOFF', duration()),
    lockDurationMs: read('SPOTTER_JOBS_LOCK_DURATION', duration({ min: 1000 })),
    stalledIntervalMs: read('SPOTTER_JOBS_STALLED_INTERVAL', duration({ min: 500 })),
    maxStalledCount: read('SPOTTER_JOBS_MAX_STALLED', int(0, 100)),
    retention: {
      completedAgeMs: read('SPOTTER_JOBS_COMPLETED_RETENTION', duration()),
      completedCount: read('SPOTTER_JOBS_COMPLETED_KEEP', int(0)),
      failedAgeMs: read('SPOTTER_JOBS_FAILED_RETENTION', duration()),
      intervalMs: read('SPOTTER_JOBS_RETENTION_INTERVAL', duration({ min: 100 })),
    },
    shutdownTimeoutMs: read('SPOTTER_JOBS_SHUTDOWN_TIMEOUT', duration({ min: 100 })),
    handlers,
    http: {
      host: read('SPOTTER_JOBS_HTTP_HOST', nonEmpty),
      port: read('SPOTTER_JOBS_HTTP_PORT', int(0, 65535)),
      workerHost: read('SPOTTER_JOBS_WORKER_HTTP_HOST', nonEmpty),
      workerPort: read('SPOTTER_JOBS_WORKER_HTTP_PORT', int(0, 65535)),
      boardUser: read('SPOTTER_JOBS_BOARD_USER', nonEmpty),
      boardPassword: read('SPOTTER_JOBS_BOARD_PASSWORD', nonEmpty, true),
      readOnly: read('SPOTTER_JOBS_BOARD_READ_ONLY', bool),
    },
    logLevel: read('SPOTTER_JOBS_LOG_LEVEL', level),
  };
  return deepFreeze(config);
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
  if (config.handlers.kind === 'http') out.push(...config.handlers.secrets);
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
