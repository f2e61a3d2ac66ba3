/** How long fair admission waits on an admitter before it takes that admitter for dead. */

/**
 * An entry admitting for longer than this never reached the queue (its admitter died): it is admitted
 * again. Twice the job lock, so a dead admitter's jobs wait about as long as a dead worker's.
 */
export function admitGraceMs(lockDurationMs: number): number {
  return Math.max(1000, 2 * lockDurationMs);
}
/**
 * How long an admitting entry takes room in the window. A live admitter adds and acknowledges its
 * jobs within milliseconds; older entries are a dead (or frozen) one's, which are admitted again only
 * after the grace, and must not hold the kind's window for every owner until then. A frozen admitter
 * that wakes up later overfills the window by its refill, once.
 */
export const ADMIT_IN_FLIGHT_MS = 5000;
