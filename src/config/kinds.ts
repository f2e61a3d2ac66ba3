/**
 * Turns the catalog's declarations into each kind's settings: the declaration gives the defaults, an
 * environment variable `SPOTTER_JOBS_<KIND>_<FIELD>` overrides any of them, and every value goes
 * through the same parsers as the rest of the configuration. A bad catalog stops start-up naming
 * the kind and the field.
 */
import { z } from 'zod';
import { type BuiltinKind, envStemOf, type KindSchedule, type Scope } from './catalog.js';
import { parseDuration } from './duration.js';
import { ConfigError } from './errors.js';
import { age, bool, completedAge, duration, type Interval, int, parseInterval, rate } from './fields.js';
import { followUpsField } from './follow-ups.js';
import { compileSchema } from './item-schema.js';
import {
  type CatchUp,
  type Declarations,
  type FairConfig,
  type KindConfig,
  type KindFallbacks,
  MAX_CHAIN_DEPTH,
  type ScheduleConfig,
} from './kind-config.js';
import { type KindField, kindVariable } from './kind-fields.js';
import { titleOf } from './kind-title.js';

const catchUpField = z.string().transform((s, ctx): CatchUp => {
  const t = s.trim();
  if (t === 'once' || t === 'skip') return { policy: t };
  const m = /^within\s+(\S+)$/.exec(t);
  const ms = m ? parseDuration(m[1] as string) : undefined;
  if (ms !== undefined && ms > 0) return { policy: 'within', ms };
  ctx.addIssue({ code: 'custom', message: 'once, skip, or within <Go duration> (such as "within 15m")' });
  return z.NEVER;
});

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

function exclusiveGroup(group: string | undefined, name: string, decl: BuiltinKind): string | undefined {
  if (group === undefined || group === 'none') return undefined;
  if (decl.scope !== 'user')
    throw new ConfigError(kindVariable(name, decl, 'exclusive'), group, 'none: exclusivity groups are per user, for user kinds');
  return group;
}

/**
 * Fair admission's settings: on by default for item kinds; the window and the owner cap only with
 * it. On a kind that is not fair either is refused rather than ignored (a setting that changes
 * nothing is most likely a mistake), except one the declaration gives while the environment turns
 * `fair` off: that is how an operator turns fair admission off for a kind.
 */
function fairConfig(
  name: string,
  decl: BuiltinKind,
  concurrency: number,
  read: Read,
  fromEnv: (f: KindField) => boolean,
): FairConfig | undefined {
  const fair = must(read('fair', bool, decl.scope === 'item' ? 'true' : 'false'));
  const window = read('fairWindow', int(1, 1_000_000), undefined);
  const ownerConcurrency = read('ownerConcurrency', int(1, 100_000), undefined);
  if (fair) return { window: window ?? Math.max(8, 4 * concurrency), ownerConcurrency };
  const mistaken = (f: KindField, v: number | undefined) => v !== undefined && (fromEnv(f) || !fromEnv('fair'));
  if (mistaken('ownerConcurrency', ownerConcurrency))
    throw new ConfigError(
      kindVariable(name, decl, 'ownerConcurrency'),
      String(ownerConcurrency),
      'unset: the owner cap applies to fair kinds',
    );
  if (mistaken('fairWindow', window))
    throw new ConfigError(kindVariable(name, decl, 'fairWindow'), String(window), 'unset: the fair window applies to fair kinds');
  return undefined;
}

type Read = <T>(field: KindField, schema: z.ZodType<T, string>, fallback: string | undefined) => T | undefined;

const must = <T>(v: T | undefined): T => v as T;

/** Reads one field: environment over declaration over fallback, parsed, errors naming where it came from. */
function readerFor(name: string, entry: Declarations[string], env: (name: string) => string | undefined): Read {
  const { decl, source } = entry;
  return <T>(field: KindField, schema: z.ZodType<T, string>, fallback: string | undefined): T | undefined => {
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
}

/**
 * Module mode: the kind's own `schedule: { next(after) }`, unless its variable sets a schedule text.
 * Anything else that is not text is refused here (a catalog file cannot hold a function at all).
 */
function scheduleFunction(name: string, entry: Declarations[string], env: (name: string) => string | undefined, where: string) {
  const declared: unknown = entry.decl.schedule;
  if (env(kindVariable(name, entry.decl, 'schedule')) !== undefined || declared === undefined || typeof declared === 'string')
    return undefined;
  const next = (declared as { next?: unknown } | null)?.next;
  if (typeof declared !== 'object' || typeof next !== 'function') {
    throw new ConfigError(
      where,
      typeof declared === 'object' ? JSON.stringify(declared) : String(declared),
      'a schedule text (a Go duration, cron, RRULE or English such as "every day at 08:00") or, in module mode, an object with a next(after) function',
    );
  }
  return (after: number) => (next as (after: number) => ReturnType<KindSchedule['next']>).call(declared, after);
}

/** The kind's schedule, if it has one: interval, offset within it, first run and catch-up. */
function scheduleConfig(
  name: string,
  entry: Declarations[string],
  env: (name: string) => string | undefined,
  tz: KindFallbacks['tz'],
  read: Read,
): ScheduleConfig | undefined {
  const { decl, source } = entry;
  const variable =
    env(kindVariable(name, decl, 'schedule')) !== undefined || !source
      ? kindVariable(name, decl, 'schedule')
      : `${source}: kind "${name}" field "schedule"`;
  const next = scheduleFunction(name, entry, env, variable);
  const scheduleText = next ? 'schedule.next()' : read('schedule', z.string(), undefined)?.trim();
  if (scheduleText === undefined) return undefined;
  if (decl.scope === 'item') {
    throw new ConfigError(kindVariable(name, decl, 'schedule'), scheduleText, 'no schedule: item kinds are added by other jobs');
  }
  const interval: Interval = next ? { next } : parseInterval(variable, scheduleText, tz);
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
      'slot for a cron, RRULE, English or function schedule (boot applies to interval schedules, written as a Go duration)',
    );
  }
  return {
    enabled: must(read('enabled', bool, 'true')),
    interval,
    intervalText: scheduleText,
    variable,
    offsetMs,
    spreadMs: must(read('spread', duration(), '0s')),
    firstRun,
    catchUp: must(read('catchUp', catchUpField, 'once')),
  };
}

/** One kind's settings: environment over declaration over fallback, every value parsed. */
export function kindConfig(
  name: string,
  entry: Declarations[string],
  env: (name: string) => string | undefined,
  fb: KindFallbacks,
): KindConfig {
  const { decl, source } = entry;
  const read = readerFor(name, entry, env);
  const schedule = scheduleConfig(name, entry, env, fb.tz, read);
  const concurrency = must(read('concurrency', int(1, 10_000), decl.scope === 'global' ? '1' : '5'));
  return {
    name,
    scope: decl.scope,
    queue: decl.queue ?? name,
    description: decl.description ?? `${decl.scope} job ${name}`,
    title: titleOf(name, decl.title, source),
    builtin: source === undefined,
    envStem: envStemOf(name, decl),
    schedule,
    catchUp: schedule?.catchUp ?? must(read('catchUp', catchUpField, 'once')),
    concurrency,
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
    fair: fairConfig(name, decl, concurrency, read, (f) => env(kindVariable(name, decl, f)) !== undefined),
  };
}
