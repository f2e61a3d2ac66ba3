/**
 * Limits on one tick's user listing. A listing that never ends (a cursor that comes back, pages that
 * stay empty, a source that stops answering) fails its tick with the reason instead of keeping the
 * tick, and its slot in the tick consumer, for ever.
 */
import { formatDuration } from '../config/duration.js';
import type { ListPosition, UserPage } from '../handlers/list-position.js';

export interface ListingLimits {
  /** Empty pages in a row that a listing may return while it still names a next cursor. */
  emptyPages: number;
  /** Time one tick may spend listing users and adding their jobs; waits for room in the window do not count. */
  deadlineMs: number;
}

/** A listing broke one of its limits: the tick fails with this reason and is retried like any failed tick. */
export class ListingLimitError extends Error {
  override name = 'ListingLimitError';
}

/**
 * One pass through the listing, checked page by page: a cursor seen before in this pass (from the
 * start position on, not only the last one) and a run of empty pages end it. A page that never comes
 * is abandoned as soon as `signal` fires (superseded, deadline, shutdown), even from a source that
 * takes no signal.
 */
export async function* guardPages(
  pages: AsyncIterable<UserPage>,
  from: ListPosition,
  limits: ListingLimits,
  signal: AbortSignal,
): AsyncIterable<UserPage> {
  const seen = new Set<string>(from.token !== undefined ? [from.token] : []);
  let empty = 0;
  let n = 0;
  const it = pages[Symbol.asyncIterator]();
  try {
    for (;;) {
      const r = await untilAborted(it.next(), signal);
      if (r.done) return;
      const page = r.value;
      n++;
      const token = page.next.token;
      if (token !== undefined) {
        if (seen.has(token)) {
          throw new ListingLimitError(
            `the user listing returned the cursor "${token.slice(0, 100)}" a second time (page ${n}): it would never end`,
          );
        }
        seen.add(token);
      }
      empty = page.users.length === 0 ? empty + 1 : 0;
      if (empty >= limits.emptyPages) {
        throw new ListingLimitError(
          `the user listing returned ${empty} empty pages in a row that each named a next cursor (limit SPOTTER_JOBS_FANOUT_EMPTY_PAGES=${limits.emptyPages})`,
        );
      }
      yield page;
    }
  } finally {
    // Not awaited: a source stuck in a page that never comes would hold this return for ever too.
    it.return?.(undefined)?.catch(() => {});
  }
}

/**
 * The tick's deadline. Its clock runs while the tick lists and adds, and stops while the tick waits
 * for room in the window: a tick that waits for slow workers is superseded by the next one instead.
 */
export class ListingBudget {
  private left: number;
  private since: number | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly ms: number,
    private readonly onExpired: (err: ListingLimitError) => void,
  ) {
    this.left = ms;
  }

  run(): void {
    if (this.since !== undefined) return;
    this.since = Date.now();
    this.timer = setTimeout(
      () =>
        this.onExpired(
          new ListingLimitError(
            `the tick spent more than ${formatDuration(this.ms)} listing users and adding their jobs (limit SPOTTER_JOBS_FANOUT_DEADLINE)`,
          ),
        ),
      Math.max(0, this.left),
    );
    this.timer.unref();
  }

  pause(): void {
    if (this.since === undefined) return;
    this.left -= Date.now() - this.since;
    this.since = undefined;
    clearTimeout(this.timer);
  }
}

/** `p`, or the signal's reason as soon as it fires. */
export function untilAborted<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}

/** A pause that ends early, rejected with the reason, when `signal` fires. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return untilAborted(new Promise<void>((r) => setTimeout(r, ms).unref()), signal);
}
