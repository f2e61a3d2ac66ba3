/**
 * BullMQ's repeat strategy for the schedules queue. BullMQ asks it for a scheduler's next run when
 * the scheduler is upserted (the schedules Queue, at reconcile) and each time a tick is taken (the
 * tick consumer's Worker schedules the next one then), so both carry it. A cron pattern gets BullMQ's
 * own default strategy, unchanged; an RRULE pattern (`FREQ=…`) its trigger's next run from the fixed
 * anchor (kind-cadence.ts); `fn:<kind>` the module's `schedule.next`, called within bounds: a function
 * that throws or answers no time after `after` is logged and the schedule gets no next run (a
 * producer started later refuses it, or re-creates the scheduler once the function answers again).
 */
import { defaultRepeatStrategy, type RepeatOptions, type RepeatStrategy } from 'bullmq';
import { type KindCatalog, kindByName } from '../jobs/registry.js';
import type { Logger } from '../telemetry/logger.js';
import { FUNCTION_PATTERN, isRrulePattern, kindRule } from './kind-cadence.js';
import { callNext } from './schedule-function.js';

/** Where BullMQ's default starts from: `millis`, or the scheduler's start date when later. */
function startFrom(millis: number, opts: RepeatOptions): number {
  const start = opts.startDate === undefined ? Number.NaN : new Date(opts.startDate).getTime();
  return start > millis ? start : millis;
}

function functionNext(catalog: KindCatalog, kind: string, after: number, log: Logger): number | undefined {
  const next = kindByName(catalog, kind)?.schedule?.interval.next;
  if (typeof next !== 'function') {
    log.error(
      { schedule: kind },
      `schedule ${kind} has no next run: no kind of this producer's catalog has a schedule function by that name`,
    );
    return undefined;
  }
  const a = callNext(next, after);
  if ('at' in a) return a.at;
  const fields = { schedule: kind, after: new Date(after).toISOString(), reason: a.none };
  const msg = `schedule ${kind} has no next run: its schedule.next(${fields.after}) ${a.none}`;
  if (a.fault) log.error(fields, msg);
  else log.warn(fields, msg);
  return undefined;
}

/** The strategy for the schedules queue of a process running `catalog`'s kinds. */
export function kindRepeatStrategy(catalog: KindCatalog, log: Logger): RepeatStrategy {
  return (millis: number, opts: RepeatOptions): number | undefined => {
    const pattern = opts.pattern ?? '';
    const fn = pattern.startsWith(FUNCTION_PATTERN);
    if (!fn && !isRrulePattern(pattern)) return defaultRepeatStrategy(millis, opts);
    if (opts.immediately) return Date.now();
    const after = startFrom(millis, opts);
    if (fn) return functionNext(catalog, pattern.slice(FUNCTION_PATTERN.length), after, log);
    return kindRule(pattern, opts.tz ?? 'UTC').next(after);
  };
}
