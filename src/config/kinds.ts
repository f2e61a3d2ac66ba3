/**
 * Turns the catalog's declarations into each kind's settings: the declaration gives the defaults, an
 * environment variable `SPOTTER_JOBS_<KIND>_<FIELD>` overrides any of them, and every value goes
 * through the same parsers as the rest of the configuration. A bad catalog stops start-up naming
 * the kind and the field.
 */
import { z } from 'zod';
import { MAX_CHAIN_DEPTH } from '../jobs/registry.js';
import { type BuiltinKind, envStemOf, KIND_NAME, RESERVED_QUEUES, SCOPES, type Scope } from './catalog.js';
import { parseDuration } from './duration.js';
import { ConfigError } from './errors.js';
import { age, bool, completedAge, duration, type Interval, int, parseInterval, rate } from './fields.js';
import { followUpsField } from './follow-ups.js';
import { compileSchema } from './item-schema.js';
import { titleOf } from './kind-title.js';

export interface ScheduleConfig {
  enabled: boolean;
  interval: Interval;
  /** As written by the operator, for status output. */
  intervalText: string;
  offsetMs: number;
  spreadMs: number;
  /** See KindDeclaration.firstRun. */
  firstRun: 'slot' | 'boot';
  /** See KindDeclaration.catchUp. */
  catchUp: CatchUp;
}

export type CatchUp = { policy: 'once' } | { policy: 'skip' } | { policy: 'within'; ms: number };

const catchUpField = z.string().transform((s, ctx): CatchUp => {
  const t = s.trim();
  if (t === 'once' || t === 'skip') return { policy: t };
  const m = /^within\s+(\S+)$/.exec(t);
  const ms = m ? parseDuration(m[1] as string) : undefined;
  if (ms !== undefined && ms > 0) return { policy: 'within', ms };
  ctx.addIssue({ code: 'custom', message: 'once, skip, or within <Go duration> (such as "within 15m")' });
  return z.NEVER;
});

export interface KindConfig {
  name: string;
  scope: Scope;
  queue: string;
  description: string;
  /** What a person calls it, shown beside the name; undefined when the catalog gives none. */
  title: string | undefined;
  builtin: boolean;
  /** Upper-case stem of this kind's `SPOTTER_JOBS_<STEM>_…` variables. */
  envStem: string;
  /** Absent for kinds that run only when added (by another job, `trigger` or the API). */
  schedule: ScheduleConfig | undefined;
  concurrency: number;
  globalConcurrency: number | undefined;
  rateLimit: { max: number; durationMs: number } | undefined;
  attempts: number;
  backoffMs: number;
  timeoutMs: number;
  retention: { completedAgeMs: number; completedCount: number; failedAgeMs: number };
  /** Exclusivity group (user kinds): one job of the group per user at a time. */
  exclusive: string | undefined;
  /** Kinds its handler may add; undefined: any. */
  followUps: readonly string[] | undefined;
  /** How deep in a chain a job of this kind may be (a job no other job added is 0 deep). */
  maxChainDepth: number;
  /** Longest single retry delay, Retry-After included; a longer Retry-After is a failed attempt. */
  maxRetryDelayMs: number;
  /** Item kinds with a schema: returns what is wrong with an item's data, or undefined. */
  checkData: ((data: unknown) => string | undefined) | undefined;
  /** The declared schema as data (a JSON Schema), `standard` for a Standard Schema (code, which Redis cannot keep), or undefined. */
  schema: unknown;
  demoLatencyMs: readonly [number, number] | undefined;
}

/** Declarations by kind name, each with where it came from (for error messages). */
export type Declarations = Record<string, { decl: BuiltinKind; source: string | undefined }>;

/** Global values a kind falls back to when neither its declaration nor its variables say. */
export interface KindFallbacks {
  tz: string;
  attempts: number;
  backoff: string;
  completedRetention: string;
  completedKeep: string;
  failedRetention: string;
  /** SPOTTER_JOBS_MAX_RETRY_DELAY in ms. */
  maxRetryDelayMs: number;
  /** Follow-ups of a kind that names none (defaultFollowUps); undefined: any kind. */
  followUps: string | undefined;
}

/** Per-kind variables as `[field, suffix]`; the schedule and enabled names may be Spotter's own. */
export const KIND_FIELDS = [
  ['schedule', 'SCHEDULE'],
  ['enabled', 'ENABLED'],
  ['offset', 'OFFSET'],
  ['firstRun', 'FIRST_RUN'],
  ['catchUp', 'CATCH_UP'],
  ['exclusive', 'EXCLUSIVE'],
  ['spread', 'SPREAD'],
  ['concurrency', 'CONCURRENCY'],
  ['globalConcurrency', 'GLOBAL_CONCURRENCY'],
  ['rateLimit', 'RATE_LIMIT'],
  ['attempts', 'ATTEMPTS'],
  ['backoff', 'BACKOFF'],
  ['timeout', 'TIMEOUT'],
  ['completedRetention', 'COMPLETED_RETENTION'],
  ['completedKeep', 'COMPLETED_KEEP'],
  ['failedRetention', 'FAILED_RETENTION'],
  ['followUps', 'FOLLOW_UPS'],
  ['maxChainDepth', 'MAX_CHAIN_DEPTH'],
  ['maxRetryDelay', 'MAX_RETRY_DELAY'],
] as const;
export type KindField = (typeof KIND_FIELDS)[number][0];

/** The variable that sets `field` of kind `name`. */
export function kindVariable(name: string, decl: BuiltinKind, field: KindField): string {
  if (field === 'schedule' && decl.scheduleVar) return decl.scheduleVar;
  if (field === 'enabled' && decl.enabledVar) return decl.enabledVar;
  const suffix = KIND_FIELDS.find(([f]) => f === field)?.[1] as string;
  return `SPOTTER_JOBS_${envStemOf(name, decl)}_${suffix}`;
}

const KNOWN_FIELDS = new Set<string>([...KIND_FIELDS.map(([f]) => f), 'scope', 'schema', 'followUps', 'description', 'title', 'run']);
const BUILTIN_ONLY = new Set(['queue', 'envStem', 'scheduleVar', 'enabledVar', 'demoLatencyMs']);

/** Checks the declarations as a whole: names, scopes, fields and follow-ups. */
export function checkDeclarations(all: Declarations): void {
  const queues = new Map<string, string>();
  const variables = new Map<string, { kind: string; field: KindField }>();
  for (const [name, { decl, source }] of Object.entries(all)) {
    const where = (field: string) => `${source ?? 'built-in catalog'}: kind "${name}" field "${field}"`;
    if (!KIND_NAME.test(name)) {
      throw new ConfigError(
        `${source ?? 'built-in catalog'}: kind "${name}"`,
        name,
        'a kind name of a-z, 0-9 and -, starting with a letter, at most 40 characters',
      );
    }
    if (decl === null || typeof decl !== 'object') throw new ConfigError(where('scope'), String(decl), 'an object with at least a scope');
    if (source) {
      for (const field of Object.keys(decl)) {
        if (!KNOWN_FIELDS.has(field) || BUILTIN_ONLY.has(field)) {
          throw new ConfigError(
            where(field),
            String((decl as unknown as Record<string, unknown>)[field]),
            `a known field (${[...KNOWN_FIELDS].join(', ')})`,
          );
        }
      }
    }
    if (!(SCOPES as readonly string[]).includes(decl.scope)) throw new ConfigError(where('scope'), String(decl.scope), SCOPES.join(', '));
    if (decl.scope === 'item' && decl.schedule !== undefined) {
      throw new ConfigError(
        where('schedule'),
        String(decl.schedule),
        'no schedule: item kinds are added by other jobs, trigger or the API',
      );
    }
    if (decl.schema !== undefined && decl.scope !== 'item') {
      throw new ConfigError(where('schema'), '(a schema)', 'no schema: only item kinds carry data');
    }
    const queue = decl.queue ?? name;
    if ((RESERVED_QUEUES as readonly string[]).includes(queue)) {
      throw new ConfigError(
        `${source ?? 'built-in catalog'}: kind "${name}"`,
        name,
        `a name other than ${RESERVED_QUEUES.join(' and ')} (the service's own queues)`,
      );
    }
    const other = queues.get(queue);
    if (other)
      throw new ConfigError(
        `${source ?? 'built-in catalog'}: kind "${name}"`,
        name,
        `a queue of its own ("${queue}" is taken by kind "${other}")`,
      );
    queues.set(queue, name);
    claimVariables(variables, name, decl, source);
    if (decl.followUps !== undefined) {
      if (!Array.isArray(decl.followUps)) throw new ConfigError(where('followUps'), String(decl.followUps), 'a list of kind names');
      for (const f of decl.followUps) {
        if (!Object.hasOwn(all, f))
          throw new ConfigError(where('followUps'), String(f), `a kind in the catalog (${Object.keys(all).join(', ')})`);
      }
    }
  }
}

/**
 * A kind's own cap as set; else the global one, and for a scheduled user kind never past its
 * interval: the next tick's job for the user coalesces into a retry still waiting, so a later retry
 * would hold back the user's next run too.
 */
function retryCap(own: number | undefined, global: number, scope: Scope, schedule: ScheduleConfig | undefined): number {
  if (own !== undefined) return own;
  const every = scope === 'user' ? schedule?.interval.every : undefined;
  return every !== undefined ? Math.min(global, every) : global;
}

/**
 * Each per-kind variable must set one field of one kind: with kinds `report` and `report-global`,
 * SPOTTER_JOBS_REPORT_GLOBAL_CONCURRENCY would set both `report`'s globalConcurrency and
 * `report-global`'s concurrency.
 */
function claimVariables(taken: Map<string, { kind: string; field: KindField }>, name: string, decl: BuiltinKind, source?: string): void {
  for (const [field] of KIND_FIELDS) {
    const variable = kindVariable(name, decl, field);
    const other = taken.get(variable);
    if (other && other.kind !== name) {
      throw new ConfigError(
        `${source ?? 'built-in catalog'}: kind "${name}"`,
        name,
        `variables of its own (${variable} would set both field "${field}" of kind "${name}" and field "${other.field}" of kind "${other.kind}")`,
      );
    }
    taken.set(variable, { kind: name, field });
  }
}

function exclusiveGroup(group: string | undefined, name: string, decl: BuiltinKind): string | undefined {
  if (group === undefined || group === 'none') return undefined;
  if (decl.scope !== 'user')
    throw new ConfigError(kindVariable(name, decl, 'exclusive'), group, 'none: exclusivity groups are per user, for user kinds');
  return group;
}

/** One kind's settings: environment over declaration over fallback, every value parsed. */
export function kindConfig(
  name: string,
  entry: Declarations[string],
  env: (name: string) => string | undefined,
  fb: KindFallbacks,
): KindConfig {
  const { decl, source } = entry;
  const read = <T>(field: KindField, schema: z.ZodType<T, string>, fallback: string | undefined): T | undefined => {
    const variable = kindVariable(name, decl, field);
    const fromEnv = env(variable);
    const declared = (decl as unknown as Record<string, unknown>)[field];
    const raw = fromEnv ?? (declared === undefined ? fallback : String(declared));
    if (raw === undefined) return undefined;
    const r = schema.safeParse(raw);
    if (r.success) return r.data;
    const label = fromEnv !== undefined || source === undefined ? variable : `${source}: kind "${name}" field "${field}"`;
    throw new ConfigError(label, raw, r.error.issues[0]?.message ?? 'a valid value');
  };
  const must = <T>(v: T | undefined): T => v as T;

  const scheduleText = read('schedule', z.string(), undefined)?.trim();
  let schedule: ScheduleConfig | undefined;
  if (scheduleText !== undefined) {
    if (decl.scope === 'item') {
      throw new ConfigError(kindVariable(name, decl, 'schedule'), scheduleText, 'no schedule: item kinds are added by other jobs');
    }
    const variable =
      env(kindVariable(name, decl, 'schedule')) !== undefined || !source
        ? kindVariable(name, decl, 'schedule')
        : `${source}: kind "${name}" field "schedule"`;
    const interval = parseInterval(variable, scheduleText, fb.tz);
    const offsetMs = must(read('offset', duration(), '0s'));
    if (interval.every !== undefined && offsetMs >= interval.every) {
      throw new ConfigError(
        kindVariable(name, decl, 'offset'),
        env(kindVariable(name, decl, 'offset')) ?? String(decl.offset ?? `${offsetMs}ms`),
        `a duration shorter than the interval (${scheduleText})`,
      );
    }
    const firstRun = must(read('firstRun', z.enum(['slot', 'boot'], { message: 'slot or boot' }), 'slot'));
    if (firstRun === 'boot' && interval.every === undefined) {
      throw new ConfigError(
        kindVariable(name, decl, 'firstRun'),
        firstRun,
        'slot for a cron schedule (boot applies to interval schedules)',
      );
    }
    schedule = {
      enabled: must(read('enabled', bool, 'true')),
      interval,
      intervalText: scheduleText,
      offsetMs,
      spreadMs: must(read('spread', duration(), '0s')),
      firstRun,
      catchUp: must(read('catchUp', catchUpField, 'once')),
    };
  }
  return {
    name,
    scope: decl.scope,
    queue: decl.queue ?? name,
    description: decl.description ?? `${decl.scope} job ${name}`,
    title: titleOf(name, decl.title, source),
    builtin: source === undefined,
    envStem: envStemOf(name, decl),
    schedule,
    concurrency: must(read('concurrency', int(1, 10_000), decl.scope === 'global' ? '1' : '5')),
    globalConcurrency: read('globalConcurrency', int(1, 100_000), undefined),
    rateLimit: read('rateLimit', rate, undefined),
    attempts: must(read('attempts', int(1, 1000), String(fb.attempts))),
    backoffMs: must(read('backoff', duration(), fb.backoff)),
    timeoutMs: must(read('timeout', duration({ min: 1 }), '2m')),
    retention: {
      completedAgeMs: must(read('completedRetention', completedAge(), fb.completedRetention)),
      completedCount: must(read('completedKeep', int(0), fb.completedKeep)),
      failedAgeMs: must(read('failedRetention', age(), fb.failedRetention)),
    },
    exclusive: exclusiveGroup(
      read('exclusive', z.string().regex(/^(none|[a-z][a-z0-9-]{0,39})$/, 'a group name ([a-z][a-z0-9-]*) or none'), undefined),
      name,
      decl,
    ),
    followUps: read('followUps', followUpsField, fb.followUps),
    maxChainDepth: must(read('maxChainDepth', int(0, MAX_CHAIN_DEPTH), '32')),
    maxRetryDelayMs: retryCap(read('maxRetryDelay', duration({ min: 1 }), undefined), fb.maxRetryDelayMs, decl.scope, schedule),
    checkData: compileSchema(decl.schema, `${source ?? 'built-in catalog'}: kind "${name}" field "schema"`),
    schema: (decl.schema as { '~standard'?: unknown } | undefined)?.['~standard'] ? 'standard' : decl.schema,
    demoLatencyMs: decl.demoLatencyMs,
  };
}
