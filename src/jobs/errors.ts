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

/** Names that mean "never retry": ours, and BullMQ's own UnrecoverableError. */
const PERMANENT_NAMES = new Set(['PermanentError', 'InvalidJobError', 'UnrecoverableError']);

/** The `name` of whatever was thrown: an Error, or a plain object such as `{ name: 'PermanentError' }`. */
function nameOf(err: unknown): unknown {
  return err !== null && typeof err === 'object' ? (err as { name?: unknown }).name : undefined;
}

export function isPermanent(err: unknown): boolean {
  const name = nameOf(err);
  return err instanceof PermanentError || (typeof name === 'string' && PERMANENT_NAMES.has(name));
}

export function isInvalidJob(err: unknown): boolean {
  return err instanceof InvalidJobError || nameOf(err) === 'InvalidJobError';
}

/** What was thrown, readably: its message, or the value itself as JSON, never `[object Object]`. */
export function describeThrown(err: unknown): string {
  const message = err !== null && typeof err === 'object' ? (err as { message?: unknown }).message : undefined;
  if (typeof message === 'string' && message !== '') return message;
  if (err instanceof Error) return err.name;
  if (typeof err === 'string') return err;
  try {
    return JSON.stringify(err, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v))?.slice(0, 1000) ?? String(err);
  } catch {
    return String(err);
  }
}

export function retryAfterOf(err: unknown): number | undefined {
  if (err instanceof RetryAfterError) return err.retryAfterMs;
  if (nameOf(err) === 'RetryAfterError') {
    const ms = (err as { retryAfterMs?: unknown }).retryAfterMs;
    if (typeof ms === 'number' && Number.isFinite(ms) && ms >= 0) return ms;
  }
  return undefined;
}
