/**
 * The one place that decides what a thrown error means for a job. Workers, backoff and tests
 * all go through `decide`, so the rules below are the rules.
 */
import { formatDuration } from '../config/duration.js';
import { describeThrown, isInvalidJob, isPermanent, retryAfterOf } from './errors.js';

/** A retry's `reason`, when set, is what the attempt failed with in place of the thrown message. */
export type Outcome = { kind: 'retry'; delayMs: number; reason?: string } | { kind: 'dead-letter'; reason: string };

export interface Attempt {
  /** 1-based number of the attempt that just failed. */
  attempt: number;
  maxAttempts: number;
  backoffMs: number;
  /** Longest single delay (the kind's maxRetryDelayMs); no cap when absent. */
  maxRetryDelayMs?: number;
  /** 0..1, for tests that need a fixed delay; defaults to Math.random. */
  random?: () => number;
}

/**
 * Exponential backoff with "equal jitter": half the delay is fixed, half random, so retries of a
 * tick's many users spread out instead of hitting the provider together again. The doubling stops
 * at `capMs`, and the jitter stays within it.
 */
export function backoffDelay(
  attempt: number,
  baseMs: number,
  random: () => number = Math.random,
  capMs = Number.POSITIVE_INFINITY,
): number {
  const exp = Math.min(capMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(exp / 2 + random() * (exp / 2));
}

export function decide(err: unknown, a: Attempt): Outcome {
  const message = describeThrown(err);
  if (isInvalidJob(err)) return { kind: 'dead-letter', reason: message };
  if (isPermanent(err)) return { kind: 'dead-letter', reason: `permanent: ${message}` };
  const cap = a.maxRetryDelayMs ?? Number.POSITIVE_INFINITY;
  const retryAfter = retryAfterOf(err);
  // A Retry-After past the cap (a date in the year 9999) would park the job, and every job coalesced
  // into it, for that long: it counts as an ordinary failed attempt instead, retried with backoff.
  const why =
    retryAfter !== undefined && retryAfter > cap
      ? `${message} (Retry-After ${formatDuration(retryAfter)} is over the ${formatDuration(cap)} cap on a retry delay; counted as a failed attempt)`
      : message;
  if (a.attempt >= a.maxAttempts) {
    return { kind: 'dead-letter', reason: `attempts exhausted (${a.attempt}/${a.maxAttempts}): ${why}` };
  }
  if (retryAfter !== undefined && why === message) return { kind: 'retry', delayMs: retryAfter };
  const delayMs = backoffDelay(a.attempt, a.backoffMs, a.random, cap);
  return why === message ? { kind: 'retry', delayMs } : { kind: 'retry', delayMs, reason: why };
}
