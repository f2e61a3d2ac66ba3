/** The settings of one job kind, as the configuration holds them after parsing. */
import type { BuiltinKind, Scope } from './catalog.js';
import type { Interval } from './fields.js';

/** The deepest a job may be in a chain, whatever a kind allows: depth is kept in every child's data. */
export const MAX_CHAIN_DEPTH = 1000;

export interface ScheduleConfig {
  enabled: boolean;
  interval: Interval;
  /** As written by the operator, for status output (`schedule.next()` for a module's function). */
  intervalText: string;
  /** Where the schedule was set (its variable, or the catalog and field): what an error about it names. */
  variable: string;
  offsetMs: number;
  spreadMs: number;
  /** See KindDeclaration.firstRun. */
  firstRun: 'slot' | 'boot';
  /** See KindDeclaration.catchUp. */
  catchUp: CatchUp;
}

export type CatchUp = { policy: 'once' } | { policy: 'skip' } | { policy: 'within'; ms: number };

export interface KindConfig {
  /** What a missed run does: a tick of its schedule, or a run of a subject schedule of the kind. */
  catchUp: CatchUp;
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
  /** Fair admission (docs/fair-share.md); undefined: jobs go straight to the queue. */
  fair: FairConfig | undefined;
}

/** How a fair kind admits its jobs into its queue. */
export interface FairConfig {
  /** Jobs waiting in the queue itself at most; the rest wait in their owners' backlogs. */
  window: number;
  /** Jobs of one owner admitted or running at once, across all workers; undefined: no cap. */
  ownerConcurrency: number | undefined;
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
