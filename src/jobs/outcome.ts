/**
 * The one place that decides what a thrown error means for a job. Workers, backoff and tests
 * all go through `decide`, so the rules below are the rules.
 */
import { describeThrown, isInvalidJob, isPermanent, retryAfterOf } from './errors.js';

export type Outcome = { kind: 'retry'; delayMs: number } | { kind: 'dead-letter'; reason: string };

export interface Attempt {
  /** 1-based number of the attempt that just failed. */
  attempt: number;
  maxAttempts: number;
  backoffMs: number;
  /** 0..1, for tests that need a fixed delay; defaults to Math.random. */
  random?: () => number;
}

/**
 * Exponential backoff with "equal jitter": half the delay is fixed, half random, so retries of a
 * tick's many users spread out instead of hitting the provider together again.
 */
export function backoffDelay(attempt: number, baseMs: number, random: () => number = Math.random): number {
  const exp = baseMs * 2 ** Math.max(0, attempt - 1);
  return Math.round(exp / 2 + random() * (exp / 2));
}

export function decide(err: unknown, a: Attempt): Outcome {
  const message = describeThrown(err);
  if (isInvalidJob(err)) return { kind: 'dead-letter', reason: message };
  if (isPermanent(err)) return { kind: 'dead-letter', reason: `permanent: ${message}` };
  if (a.attempt >= a.maxAttempts) {
    return { kind: 'dead-letter', reason: `attempts exhausted (${a.attempt}/${a.maxAttempts}): ${message}` };
  }
  const retryAfter = retryAfterOf(err);
  if (retryAfter !== undefined) return { kind: 'retry', delayMs: retryAfter };
  return { kind: 'retry', delayMs: backoffDelay(a.attempt, a.backoffMs, a.random) };
}
