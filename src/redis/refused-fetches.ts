/**
 * A worker that Redis refuses stops asking for a while. BullMQ's worker fetches its next job again at
 * once when the failure is not a lost connection, so while Redis refuses writes (out of memory at
 * `maxmemory`, a failed snapshot, a replica after a failover) each worker sends thousands of refused
 * fetches a second: a core of its own, and a third of Redis' time taken from the clients an operator
 * uses to recover it. BullMQ's own pause for a rate limit (`limitUntil`, which its close cuts short) is
 * the way to hold its fetch loop, so a refusal sets it, for a backoff that doubles up to a bound.
 */
import type { Worker } from 'bullmq';

/** The first wait after a refusal, and the most any wait lasts. */
export const FIRST_BACKOFF_MS = 250;
export const MOST_BACKOFF_MS = 5000;

/** Reply codes by which Redis refuses work for a while, whoever asks: not errors of one command. */
const REFUSAL = /^(OOM|MISCONF|READONLY|NOREPLICAS|MASTERDOWN|LOADING|BUSY|TRYAGAIN|CLUSTERDOWN)\b/;

/** Whether an error is Redis refusing work for a while (its reply code is one of REFUSAL's). */
export function isRefusal(err: unknown): boolean {
  return err instanceof Error && REFUSAL.test(err.message);
}

/** The part of a BullMQ worker this sets: the time before which its fetch loop waits. */
type Held = { limitUntil: number };

/**
 * Returns the worker's error hook: for a refusal, its fetches wait (250 ms, then twice as long at
 * each refusal in a row, at most 5 s) and it answers true; any other error leaves the worker alone.
 * A refusal more than twice the last wait after the one before starts again at the first wait.
 */
export function backOffWhenRefused(worker: Worker): (err: unknown) => boolean {
  let wait = 0;
  let last = 0;
  return (err) => {
    if (!isRefusal(err)) return false;
    const now = Date.now();
    wait = wait === 0 || now - last > 2 * wait ? FIRST_BACKOFF_MS : Math.min(MOST_BACKOFF_MS, 2 * wait);
    last = now;
    const held = worker as unknown as Held;
    held.limitUntil = Math.max(held.limitUntil, now + wait);
    return true;
  };
}
