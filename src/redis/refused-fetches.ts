/**
 * A worker that Redis refuses stops asking for a while. BullMQ's worker fetches its next job again at
 * once when the failure is not a lost connection, so while Redis refuses writes (out of memory at
 * `maxmemory`, a failed snapshot, a replica after a failover) or refuses the worker's commands (an ACL
 * without them), each worker sends thousands of refused fetches a second: a core of its own, and a
 * third of Redis' time taken from the clients an operator uses to recover it. BullMQ's own pause for
 * a rate limit (`limitUntil`, which its close cuts short) is the way to hold its fetch loop, so a
 * refusal sets it, for a backoff that doubles up to a bound.
 */
import type { Worker } from 'bullmq';

/** The first wait after a refusal, and the most any wait lasts. */
export const FIRST_BACKOFF_MS = 250;
export const MOST_BACKOFF_MS = 5000;

/** Reply codes by which Redis refuses work for a while, as BullMQ passes them on inside its own errors. */
const REFUSAL = /(^|: )(OOM|MISCONF|READONLY|NOREPLICAS|MASTERDOWN|LOADING|BUSY|TRYAGAIN|CLUSTERDOWN) /;

/**
 * Whether Redis answered the error: any error reply (asked again at once, Redis gives the same
 * answer), or one of REFUSAL's codes inside an error of BullMQ's. Not a lost connection, which BullMQ
 * waits out itself, nor a lost job lock, which BullMQ reports in an error of its own.
 */
export function isRefusal(err: unknown): boolean {
  return err instanceof Error && (err.name === 'ReplyError' || REFUSAL.test(err.message));
}

/**
 * A refusal's reply code: the code inside an error of BullMQ's, or the first word of Redis' own
 * answer. Only the code is shown on unauthenticated probes; the whole text goes to the log.
 */
function codeOf(err: Error): string {
  return REFUSAL.exec(err.message)?.[2] ?? err.message.split(' ', 1)[0]?.slice(0, 40) ?? 'ERR';
}

/** The part of a BullMQ worker this sets: the time before which its fetch loop waits. */
type Held = { limitUntil: number };

/** A worker's error hook, and what it says of the refusals it heard. */
export type RefusalHook = ((err: unknown) => boolean) & {
  /**
   * The last refusal's reply code (`OOM`, `READONLY`, `NOPERM`…) while its run lasts: until the
   * worker takes a job again, or twice the last wait passed without another refusal. Readiness
   * reports it: the worker is up but not working.
   */
  refusal(): string | undefined;
};

/**
 * Returns the worker's error hook: for a refusal, its fetches wait and it answers true; any other
 * error leaves the worker alone. The wait is 250 ms, then twice the last at each refusal of the run,
 * at most 5 s. A refusal within half the wait of the last counted one (the other jobs of the same
 * round, their outcomes refused too) holds the same wait; one more than twice the wait after it
 * starts a new run. Each job the worker takes ends the run's refusal (`refusal()`).
 */
export function backOffWhenRefused(worker: Worker): RefusalHook {
  let wait = 0;
  let last = 0;
  let code: string | undefined;
  const hook = (err: unknown) => {
    if (!isRefusal(err)) return false;
    const now = Date.now();
    const fresh = wait === 0 || now - last > 2 * wait;
    const next = !fresh && now - last >= wait / 2;
    if (fresh) wait = FIRST_BACKOFF_MS;
    else if (next) wait = Math.min(MOST_BACKOFF_MS, 2 * wait);
    if (fresh || next) last = now;
    code = codeOf(err as Error);
    const held = worker as unknown as Held;
    held.limitUntil = Math.max(held.limitUntil, now + wait);
    return true;
  };
  // A job taken: Redis accepts the worker's fetches again.
  worker.on('active', () => {
    code = undefined;
  });
  return Object.assign(hook, { refusal: () => (code !== undefined && Date.now() - last <= 2 * wait ? code : undefined) });
}
