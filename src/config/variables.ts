/** The table of every environment variable the service reads: `--help` and the README list these. */
import { BUILTIN_KINDS } from './catalog.js';
import { CATALOG_VAR, HANDLERS_VAR } from './catalog-source.js';
import { kindVariable } from './kind-fields.js';

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
  { name: 'SPOTTER_JOBS_TZ', default: 'UTC', description: 'IANA time zone for cron, RRULE and English schedules', roles: P },
  ...Object.entries(BUILTIN_KINDS).flatMap(([k, d]): Variable[] => [
    {
      name: kv(k, 'schedule'),
      default: typeof d.schedule === 'string' ? d.schedule : undefined,
      description: `${k} schedule: Go duration, 5/6-field cron, RRULE or English text such as "every day at 08:00"`,
      roles: P,
    },
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
  {
    name: 'SPOTTER_JOBS_SCHEDULE_WINDOW',
    default: '1m',
    description: 'a subject schedule becomes a (delayed) job once its next run is this close; before that it is only a few bytes of Redis',
    roles: P,
  },
  {
    name: 'SPOTTER_JOBS_SCHEDULES_PER_SUBJECT',
    default: '100',
    description: 'most subject schedules one user or item may hold (per kind and subject, all names together)',
    roles: ALL,
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
    description: "job lock; a dead worker's job runs again within this plus twice SPOTTER_JOBS_STALLED_INTERVAL",
    roles: PW,
  },
  { name: 'SPOTTER_JOBS_STALLED_INTERVAL', default: '30s', description: 'how often stalled jobs are looked for', roles: PW },
  {
    name: 'SPOTTER_JOBS_MAX_STALLED',
    default: '2',
    description: 'times a job may stall (its worker died) before it is dead-lettered',
    roles: W,
  },
  {
    name: 'SPOTTER_JOBS_FETCH_AHEAD',
    default: 'true',
    description:
      "a worker holds up to a fifth of a kind's concurrency in jobs ahead of a free slot, so each slot starts its next job without a Redis round trip",
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
