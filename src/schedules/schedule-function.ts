/**
 * A module kind's own `schedule: { next(after) }`, called within bounds: whatever it does (throw,
 * answer a time that is not after `after`, answer something that is no time at all), the caller gets
 * either a run or the reason there is none, never an exception.
 */
import type { KindSchedule } from '../config/catalog.js';

/** A run strictly after `after` (epoch ms), or why there is none (`fault`: the function misbehaved). */
export type NextAnswer = { at: number } | { none: string; fault: boolean };

const iso = (ms: number) => (Number.isFinite(ms) && Math.abs(ms) < 8.64e15 ? new Date(ms).toISOString() : String(ms));

/** Calls `next(after)` and checks its answer: epoch ms or a Date strictly after `after`, or null. */
export function callNext(next: KindSchedule['next'], after: number): NextAnswer {
  let out: unknown;
  try {
    out = next(after);
  } catch (err) {
    return { none: `threw: ${err instanceof Error ? err.message : String(err)}`, fault: true };
  }
  if (out === null || out === undefined) return { none: `returned ${String(out)}`, fault: false };
  const at = out instanceof Date ? out.getTime() : out;
  if (typeof at !== 'number' || !Number.isFinite(at)) {
    const what = out instanceof Date ? 'an invalid Date' : typeof out === 'object' ? 'an object' : JSON.stringify(out);
    return { none: `returned ${what}, not a time (epoch ms or a Date)`, fault: true };
  }
  if (at <= after) return { none: `returned ${iso(at)}, not after ${iso(after)}`, fault: true };
  // Whole milliseconds: BullMQ names each tick job after its time.
  return { at: Math.ceil(at) };
}
