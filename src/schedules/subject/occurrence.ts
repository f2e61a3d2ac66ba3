/**
 * What becomes of one occurrence when a producer takes it: whether it runs (missed ones follow the
 * kind's catch-up policy, as missed ticks do), the schedule's next run, and its definition after it
 * (runs left, ended). Pure, so every rule here is tested without Redis.
 */
import { formatDuration } from '../../config/duration.js';
import type { CatchUp } from '../../config/kind-config.js';
import type { Trigger } from '../triggers/index.js';
import type { ScheduleDef } from './codec.js';

/** An occurrence taken this long after its time was missed (producers down, Redis away), not merely late. */
export const MISSED_AFTER_MS = 5_000;

export interface Plan {
  run: boolean;
  /** Why a missed occurrence does not run. */
  skipped?: string;
  /** Next run (ms), or undefined when the schedule ends with this occurrence. */
  next: number | undefined;
  def: ScheduleDef;
  /** How long after its time the occurrence was taken. */
  lateMs: number;
}

function missedVerdict(policy: CatchUp, trigger: Trigger, at: number, lag: number): string | undefined {
  if (policy.policy === 'once') return undefined;
  if (policy.policy === 'within') {
    return lag <= policy.ms ? undefined : `missed by ${formatDuration(lag)}; catch-up: within ${formatDuration(policy.ms)}`;
  }
  const interval = (trigger.next(at) ?? Number.POSITIVE_INFINITY) - at;
  return lag <= interval ? undefined : `missed by ${formatDuration(lag)}, more than one interval; catch-up: skip`;
}

/** The plan for the occurrence at `at` of `def`, taken at `now`. */
export function planOccurrence(def: ScheduleDef, at: number, now: number, trigger: Trigger, catchUp: CatchUp): Plan {
  const lateMs = Math.max(0, now - at);
  const missed = lateMs > MISSED_AFTER_MS;
  const skipped = missed ? missedVerdict(catchUp, trigger, at, lateMs) : undefined;
  const run = skipped === undefined;
  // A missed occurrence stands for every run missed with it: the next one is after now.
  let next = trigger.next(missed ? Math.max(now, at) : at);
  let countLeft = def.countLeft;
  if (countLeft !== undefined && run) countLeft -= 1;
  if (countLeft !== undefined && countLeft <= 0) next = undefined;
  if (next !== undefined && def.until !== undefined && next > def.until) next = undefined;
  const after: ScheduleDef = { ...def, state: next === undefined ? 'ended' : def.state };
  if (countLeft !== undefined) after.countLeft = Math.max(0, countLeft);
  return { run, ...(skipped ? { skipped } : {}), next, def: after, lateMs };
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
