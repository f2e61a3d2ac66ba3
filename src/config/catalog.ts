/**
 * The catalog of job kinds: the only place a kind exists. Spotter's three kinds are the built-in
 * entries below; a handler module (`export const jobs`) or a catalog file (`SPOTTER_JOBS_CATALOG`)
 * adds more. Config, handlers, fan-out, workers, the board, the API, the CLI and metrics all read
 * the kinds from here, so adding one is one entry and one function.
 */

export const SCOPES = ['user', 'global', 'item'] as const;
/** `user`: one job per user per tick; `global`: one job per tick; `item`: added by other jobs. */
export type Scope = (typeof SCOPES)[number];

/**
 * Module mode: a kind's schedule computed by its own function. `next(after)` gets epoch ms and answers
 * the kind's first run strictly after it, as epoch ms or a Date, or null when it has no next run.
 */
export interface KindSchedule {
  next(after: number): number | Date | null | undefined;
}

/** A kind as written in a catalog: every field but `scope` has a default. */
export interface KindDeclaration {
  scope: Scope;
  /**
   * A Go duration, a 5/6-field cron expression, an RRULE or English text such as "every day at 08:00"
   * (in SPOTTER_JOBS_TZ), or in module mode `{ next(after) }`; absent: run only when added.
   */
  schedule?: string | KindSchedule;
  enabled?: boolean;
  /** Jobs at once per worker process. */
  concurrency?: number;
  /** Jobs at once across all worker processes. */
  globalConcurrency?: number;
  /** `<max>/<duration>`, e.g. `10/1s`. */
  rateLimit?: string;
  attempts?: number;
  /** First retry delay (Go duration); doubles per attempt, with jitter. */
  backoff?: string;
  /** Per-attempt deadline (Go duration). */
  timeout?: string;
  /** Interval schedules only: where in each interval the tick falls (`slot`), or the first run's delay (`boot`). */
  offset?: string;
  /**
   * Interval schedules only. `slot` (default): ticks at a fixed point of each interval (`offset` into
   * it), so a fresh start may wait up to an interval. `boot`: Spotter's own loops: the first tick
   * `offset` after the schedule is first created, then every interval from there.
   */
  firstRun?: 'slot' | 'boot';
  /**
   * What a tick that was missed (producers or Redis down for a while) does when it finally runs:
   * `once` (default): runs, late, once; `skip`: dropped if older than one interval, so the next slot
   * is the next run; `within <duration>`: runs if the most recent missed slot is younger than that.
   */
  catchUp?: string;
  /**
   * User kinds: an exclusivity group. Two jobs of one group for the same user never run at the same
   * time, across all workers; the second waits (delayed, not failed, no attempt used). `none`: no group.
   */
  exclusive?: string;
  /** User kinds only: spread a tick's jobs over this window by a stable per-user delay. */
  spread?: string;
  completedRetention?: string;
  completedKeep?: number;
  failedRetention?: string;
  /** Item kinds: JSON Schema (or any Standard Schema, in module mode) the item's data must match. */
  schema?: unknown;
  /**
   * Kinds this kind's handler may add with `ctx.enqueue`; absent: any kind in module mode, in HTTP
   * mode the catalog file's kinds but not Spotter's three.
   */
  followUps?: readonly string[];
  /** How deep in a chain (jobs added by jobs) a job of this kind may be; default 32. */
  maxChainDepth?: number;
  /** Longest single retry delay (Go duration); default SPOTTER_JOBS_MAX_RETRY_DELAY, for a scheduled user kind at most its interval. */
  maxRetryDelay?: string;
  /**
   * Fair admission (docs/fair-share.md): jobs added outside a fan-out wait per owner and enter the
   * queue by weighted round robin over owners. Default: on for item kinds, off for the others.
   */
  fair?: boolean;
  /** Fair kinds: jobs kept waiting in the queue itself, ahead of the owners' backlogs; default 4 × concurrency, at least 8. */
  fairWindow?: number;
  /** Fair kinds: jobs of one owner admitted or running at once, across all workers; default no cap. */
  ownerConcurrency?: number;
  description?: string;
  /** What a person calls it ("Monthly Credit Top-Up"), shown beside the name; at most 80 characters. */
  title?: string;
  /** Module mode: the handler, `(userId, ctx)`, `(ctx)` or `({ id, data }, ctx)` by scope. */
  run?: unknown;
}

/** What only the built-in kinds carry: Spotter's own queue and variable names, and demo latencies. */
export interface BuiltinKind extends KindDeclaration {
  /** Queue name, when it differs from the kind's name (Spotter's `writeback`). */
  queue?: string;
  /** Upper-case stem of `SPOTTER_JOBS_<STEM>_…` variables, when not derived from the name. */
  envStem?: string;
  /** Spotter's own names for the schedule and enabled variables. */
  scheduleVar?: string;
  enabledVar?: string;
  /** Demo mode: simulated handler latency range (ms). */
  demoLatencyMs?: readonly [number, number];
}

/** Spotter's jobs: the default catalog. */
export const BUILTIN_KINDS: Readonly<Record<string, BuiltinKind>> = {
  sync: {
    scope: 'user',
    description: 'listen and playlist sync from the music providers',
    schedule: '5m',
    scheduleVar: 'SPOTTER_SYNC_INTERVAL',
    // Sync and write-back both touch the user's playlists.
    exclusive: 'playlists',
    offset: '0s',
    concurrency: 10,
    timeout: '2m',
    demoLatencyMs: [150, 900],
  },
  enrichment: {
    scope: 'user',
    description: 'metadata enrichment',
    schedule: '1h',
    scheduleVar: 'SPOTTER_METADATA_INTERVAL',
    enabledVar: 'SPOTTER_METADATA_ENABLED',
    offset: '30s',
    concurrency: 5,
    timeout: '5m',
    demoLatencyMs: [300, 1500],
  },
  'write-back': {
    scope: 'user',
    description: 'playlist write-back to Navidrome',
    queue: 'writeback',
    envStem: 'WRITEBACK',
    schedule: '1h',
    scheduleVar: 'SPOTTER_PLAYLIST_SYNC_SYNC_INTERVAL',
    exclusive: 'playlists',
    offset: '1m',
    concurrency: 5,
    timeout: '2m',
    demoLatencyMs: [100, 600],
  },
};

/** Kinds in the same exclusivity sense as queue names: letters, digits and dashes, no `_` or `:`. */
export const KIND_NAME = /^[a-z][a-z0-9-]{0,39}$/;

/** Queue names the service uses itself; no kind may take them. */
export const RESERVED_QUEUES = ['schedules', 'dead-letter'] as const;

/** `SPOTTER_JOBS_<STEM>_…`: the kind upper-cased, `-` → `_`. */
export function envStemOf(name: string, decl: BuiltinKind): string {
  return decl.envStem ?? name.toUpperCase().replaceAll('-', '_');
}
