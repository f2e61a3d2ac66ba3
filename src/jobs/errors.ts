/**
 * Errors a handler may throw to decide a job's fate. Matched by `name` as well as by class, so a
 * handler module that cannot import this package can still throw `{ name: 'PermanentError' }`.
 */

/** The job can never succeed (bad input, revoked account, 4xx): dead-letter at once, no retries. */
export class PermanentError extends Error {
  override name = 'PermanentError';
}

/**
 * The job itself is malformed: its data does not validate, or a handler tried to add a job that
 * could never run (unknown kind, bad id, data too large). Never retried.
 */
export class InvalidJobError extends PermanentError {
  override name = 'InvalidJobError';
}

/** The job should be retried after a given delay (429/503 with Retry-After). */
export class RetryAfterError extends Error {
  override name = 'RetryAfterError';
  constructor(
    message: string,
    readonly retryAfterMs: number,
  ) {
    super(message);
  }
}

/** A bad environment variable: start-up stops with exit code 78 naming it. */
export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(
    readonly variable: string,
    readonly value: string | undefined,
    readonly expected: string,
  ) {
    super(
      value === undefined
        ? `${variable} is not set; expected ${expected}`
        : `${variable}=${JSON.stringify(value)} is invalid; expected ${expected}`,
    );
  }
}

/** Names that mean "never retry": ours, and BullMQ's own UnrecoverableError. */
const PERMANENT_NAMES = new Set(['PermanentError', 'InvalidJobError', 'UnrecoverableError']);

export function isPermanent(err: unknown): boolean {
  return err instanceof PermanentError || (err instanceof Error && PERMANENT_NAMES.has(err.name));
}

export function isInvalidJob(err: unknown): boolean {
  return err instanceof InvalidJobError || (err instanceof Error && err.name === 'InvalidJobError');
}

export function retryAfterOf(err: unknown): number | undefined {
  if (err instanceof RetryAfterError) return err.retryAfterMs;
  if (err instanceof Error && err.name === 'RetryAfterError') {
    const ms = (err as { retryAfterMs?: unknown }).retryAfterMs;
    if (typeof ms === 'number' && Number.isFinite(ms) && ms >= 0) return ms;
  }
  return undefined;
}
