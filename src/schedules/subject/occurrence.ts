/**
 * What becomes of one occurrence when a producer takes it: whether it runs (missed ones follow the
 * kind's catch-up policy, as missed ticks do), the schedule's next run, and its definition after it
 * (runs left, ended). Pure, so every rule here is tested without Redis.
 */
import { formatDuration } from '../../config/duration.js';
import type { CatchUp } from '../../config/kind-config.js';
import { parseTrigger, type Trigger } from '../triggers/index.js';
import type { ScheduleDef } from './codec.js';

/** A definition's trigger, anchored at the second it was made. Throws RuleError for one this version cannot read. */
export function triggerOf(def: ScheduleDef): Trigger {
  return parseTrigger(def.rule, { tz: def.tz, start: def.start });
}

/** An occurrence taken this long after its time was missed (producers down, Redis away), not merely late. */
export const MISSED_AFTER_MS = 5_000;

export interface Plan {
  run: boolean;
  /** Why a missed occurrence does not run. */
  skipped?: string;
  /** Next run (ms), or undefined when the schedule ends with this occurrence. */
  next: number | undefined;
  def: ScheduleDef;
  /** The time the run stands for: its due time, or the latest run of a missed stretch. */
  runAt: number;
  /** How long after that time the run was taken. */
  lateMs: number;
}

/** Runs of a missed stretch stepped through one by one before the search below takes over. */
const WALK_STEPS = 16;

/**
 * The latest run at or before `last` (now, or the schedule's until), from the missed run at `at` on.
 * A long stretch of short runs (a year of seconds) is searched, not walked: `next` grows with its
 * argument, so the latest run is next(t) for the largest t whose next run is still within `last`.
 */
function latestRun(trigger: Trigger, at: number, last: number): number {
  let t = at;
  for (let i = 0; i < WALK_STEPS; i++) {
    const n = trigger.next(t);
    if (n === undefined || n > last) return t;
    t = n;
  }
  // next(hi) is past `last` (hi = last); next(lo) may be too, and then lo itself is the latest run.
  let lo = t;
  let hi = last;
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    const n = trigger.next(mid);
    if (n !== undefined && n <= last) lo = mid;
    else hi = mid;
  }
  const n = trigger.next(lo);
  return n !== undefined && n <= last ? n : lo;
}

/**
 * Whether a missed run still runs: `skip` drops the runs of a stretch longer than one interval (as
 * for ticks, from the first run missed), `within D` runs the latest one if it is younger than D.
 */
function missedVerdict(policy: CatchUp, trigger: Trigger, at: number, runAt: number, now: number): string | undefined {
  if (policy.policy === 'once') return undefined;
  if (policy.policy === 'within') {
    const age = now - runAt;
    return age <= policy.ms
      ? undefined
      : `its latest missed run is ${formatDuration(age)} old; catch-up: within ${formatDuration(policy.ms)}`;
  }
  const lag = now - at;
  const interval = (trigger.next(at) ?? Number.POSITIVE_INFINITY) - at;
  return lag <= interval ? undefined : `missed by ${formatDuration(lag)}, more than one interval; catch-up: skip`;
}

/**
 * The plan for the run due at `at` of `def`, taken at `now`. A missed run stands for every run missed
 * with it: the one that runs is the latest of them (`runAt`), and the schedule goes on from now.
 */
export function planOccurrence(def: ScheduleDef, at: number, now: number, trigger: Trigger, catchUp: CatchUp): Plan {
  const missed = now - at > MISSED_AFTER_MS;
  const runAt = missed ? latestRun(trigger, at, def.until === undefined ? now : Math.min(now, def.until)) : at;
  const skipped = missed ? missedVerdict(catchUp, trigger, at, runAt, now) : undefined;
  const run = skipped === undefined;
  let next = trigger.next(missed ? Math.max(now, at) : at);
  let countLeft = def.countLeft;
  if (countLeft !== undefined && run) countLeft -= 1;
  if (countLeft !== undefined && countLeft <= 0) next = undefined;
  if (next !== undefined && def.until !== undefined && next > def.until) next = undefined;
  const after: ScheduleDef = { ...def, state: next === undefined ? 'ended' : def.state };
  if (countLeft !== undefined) after.countLeft = Math.max(0, countLeft);
  return { run, ...(skipped ? { skipped } : {}), next, def: after, runAt, lateMs: Math.max(0, now - runAt) };
}

/** The next `n` runs of a definition from `from` on, within its count and until. */
export function nextRuns(def: ScheduleDef, trigger: Trigger, from: number, n: number): number[] {
  const out: number[] = [];
  let t = trigger.next(from);
  const most = Math.min(n, def.countLeft ?? n);
  while (t !== undefined && out.length < most && (def.until === undefined || t <= def.until)) {
    out.push(t);
    t = trigger.next(t);
  }
  return out;
}
