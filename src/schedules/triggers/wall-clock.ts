/**
 * Wall clocks of IANA zones, and the one daylight-saving rule of every wall-clock form.
 *
 * Cron, RRULE, a `once` written without a zone, and English text run on the zone's wall clock. Their
 * rules are evaluated on "floating" wall time (a wall time written as if it were UTC, so the calendar
 * arithmetic of cron-parser and rrule never meets a transition), and each wall time they give is
 * turned into an instant here, by this rule:
 * - a wall time that does not exist that day (the clock springs forward over it, e.g. 02:30 on
 *   2027-03-28 in Europe/Berlin) runs once, at the same wall time shifted forward by the gap (03:30
 *   local, 01:30Z);
 * - a wall time that happens twice (the clock falls back over it, e.g. 02:30 on 2027-10-31 in
 *   Europe/Berlin) runs once, at its first instant (the earlier offset: 02:30+02:00, 00:30Z).
 * So a schedule neither skips a day nor runs twice in one. `every` durations are absolute and do not
 * come here: 2h is 2h whatever the clock says.
 *
 * Offsets come from luxon's IANAZone (the platform's Intl time-zone data), through zone-offsets.ts.
 */
import { BoundedCache } from './bounded-cache.js';
import { ZoneOffsets } from './zone-offsets.js';

const DAY = 86_400_000;
/** Zones remembered: more than there are. */
const ZONES_KEPT = 1000;

/** An instant and, when its wall time fell in a spring-forward gap, the wall time that gap ends at. */
export interface ResolvedWall {
  instant: number;
  gapEnd?: number;
}

/** The first wall time of a series strictly after the floating wall time `wall`, or undefined. */
export type NextWall = (wall: number) => number | undefined;

/** One zone's wall clock. Floating wall times are epoch ms read as if the zone were UTC. */
export class WallClock {
  private readonly offsets: ZoneOffsets;

  constructor(readonly tz: string) {
    this.offsets = new ZoneOffsets(tz);
  }

  /** The zone's offset at `instant`, in ms. */
  offset(instant: number): number {
    return this.offsets.at(instant);
  }

  /** The floating wall time at `instant`. */
  wallOf(instant: number): number {
    return instant + this.offset(instant);
  }

  /** The instant the floating wall time `wall` runs at, by the rule in this file's comment. */
  resolve(wall: number): ResolvedWall {
    const before = this.offset(wall - DAY);
    const early = wall - before;
    // Valid with the offset of the day before: the only instant, or the first of two.
    if (this.offset(early) === before) return { instant: early };
    const after = this.offset(wall + DAY);
    const late = wall - after;
    if (this.offset(late) === after) return { instant: late };
    // Valid with neither: in a gap. `early` is the wall time shifted forward by the gap.
    return { instant: early, gapEnd: this.transitionIn(late, early) + after };
  }

  /** The instant in (lo, hi] the offset changes at, to the millisecond; lo and hi differ in offset. */
  transitionIn(lo: number, hi: number): number {
    const before = this.offset(lo);
    let low = lo;
    let high = hi;
    while (high - low > 1) {
      const mid = Math.floor((low + high) / 2);
      if (this.offset(mid) === before) low = mid;
      else high = mid;
    }
    return high;
  }
}

const clocks = new BoundedCache<string, WallClock>(ZONES_KEPT);

/** The wall clock of `tz`, which must be a zone checkZone accepted. */
export function wallClock(tz: string): WallClock {
  let clock = clocks.get(tz);
  if (clock === undefined) {
    clock = new WallClock(tz);
    clocks.set(tz, clock);
  }
  return clock;
}

/**
 * The first instant strictly after `after` of a series of wall times, by the rule in this file's
 * comment. Wall time jumps in a gap and goes back in a fold, so the first wall time after `after`'s is
 * not always the first instant: a wall time in a gap runs after the wall times just before the gap's
 * end (so it may still be to come when `after`'s wall time has passed it), and may run after wall
 * times just past the gap; in a fold's second pass, the fold's wall times already ran in the first.
 */
export function nextOnWallClock(clock: WallClock, after: number, nextWall: NextWall): number | undefined {
  // Within a day after a gap, start from the wall time `after` had with the offset before it.
  let cursor = after + Math.min(clock.offset(after), clock.offset(after - DAY));
  // Two rounds do, the second starting past the fold; three leave room for a zone's oddities.
  for (let round = 0; round < 3; round++) {
    const wall = nextWall(cursor);
    if (wall === undefined) return undefined;
    const at = clock.resolve(wall);
    if (at.instant > after) return at.gapEnd === undefined ? at.instant : firstAcrossGap(clock, after, at.instant, at.gapEnd, nextWall);
    const ran = wall - at.instant;
    // `wall` ran before `after`, at the offset `after` has: go on from `after`'s wall time. At another
    // offset it ran in a fold's first pass and `after` is in its second: every wall time of the fold
    // ran in the first, so go on from the fold's end.
    cursor = ran === clock.offset(after) ? after + ran : clock.transitionIn(at.instant, after) + ran - 1;
  }
  throw new Error(`wall clock of ${clock.tz} did not advance after ${new Date(after).toISOString()}`);
}

/** A time shifted out of a gap, or the series' first wall time past the gap when that runs earlier. */
function firstAcrossGap(clock: WallClock, after: number, shifted: number, gapEnd: number, nextWall: NextWall): number {
  // Past the gap instants follow wall times again: the first one after `after` is the first wall
  // time after both the gap's end and `after`'s own wall time.
  const past = nextWall(Math.max(gapEnd - 1, clock.wallOf(after)));
  if (past === undefined) return shifted;
  return Math.min(shifted, clock.resolve(past).instant);
}
