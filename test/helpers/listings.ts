/** Fan-out test helpers: a tick of the sync kind, and a keyset user listing as a database pages one. */
import type { KindConfig } from '../../src/config/kind-config.js';
import type { ListPosition, UserPage } from '../../src/handlers/list-position.js';
import type { Handlers } from '../../src/handlers/types.js';
import { testHandlers } from './handlers.js';
import type { Harness } from './harness.js';

/** A scheduled tick of sync at `at`, with the given fan-out window (0: none). */
export const syncTick = (x: Harness, at: number, window: number) => ({
  kind: x.config.kinds.sync as KindConfig,
  tickId: `repeat:sync:${at}`,
  scheduledFor: at,
  spreadMs: 0,
  window,
});

/** Where a listing was asked from, and each page's size asked and first user. */
export interface ListingSeen {
  froms: ListPosition[];
  pages: Array<[number, string]>;
}

/**
 * A keyset listing, as a database pages: each cursor the last id of the page before, over `ids` as
 * they are when each page is asked. Pages of `size` users when given (a source that ignores the
 * limit), else of the limit asked; `seen` records the asks.
 */
export function keysetListing(ids: string[], opts: { size?: number; seen?: ListingSeen } = {}): Handlers {
  async function* listFrom(from: ListPosition, pageSize: number): AsyncIterable<UserPage> {
    opts.seen?.froms.push(from);
    let skip = from.skip;
    let after = from.token?.slice('after:'.length);
    const limit = opts.size ?? pageSize;
    for (;;) {
      const sorted = [...ids].sort();
      const chunk = sorted.filter((u) => after === undefined || u > after).slice(0, limit);
      if (chunk.length === 0) return;
      opts.seen?.pages.push([limit, chunk[0] as string]);
      skip += chunk.length;
      after = chunk.at(-1) as string;
      const more = sorted.some((u) => u > (after as string));
      yield { users: chunk, next: { skip, ...(more ? { token: `after:${after}` } : {}) } };
    }
  }
  return { ...testHandlers(ids), listFrom };
}
