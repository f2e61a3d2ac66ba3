/**
 * Resumable user listing for windowed fan-outs. A position is how many users a tick has passed, and,
 * for sources that page with a cursor (HTTP mode, a module whose listUsers takes `{ cursor, limit }`),
 * that source's cursor, so a tick resumed by another producer asks for the right page directly. Plain
 * iterables are listed again and skipped up to the position.
 */
import type { ListPosition, UserPage } from './list-position.js';
import type { Handlers } from './types.js';

/** Pages from `from` on: the source's own cursor where it has one, otherwise re-listed and skipped. */
export async function* userPages(handlers: Handlers, from: ListPosition, size: number, signal?: AbortSignal): AsyncIterable<UserPage> {
  const within = from.within ?? 0;
  // The page holding the position starts `within` users earlier; those are dropped again.
  const pageStart: ListPosition = { skip: from.skip - within, ...(from.token !== undefined ? { token: from.token } : {}) };
  const pages = handlers.listFrom ? handlers.listFrom(pageStart, size, signal) : skipTo(handlers.listUsers(size, signal), pageStart);
  yield* dropFirst(pages, within);
}

/** A listing without a cursor, skipped up to `from.skip`. */
export async function* skipTo(pages: AsyncIterable<string[]>, from: ListPosition): AsyncIterable<UserPage> {
  let passed = 0;
  for await (const page of pages) {
    const start = Math.max(0, from.skip - passed);
    passed += page.length;
    if (start >= page.length) continue;
    yield { users: start > 0 ? page.slice(start) : page, next: { skip: passed } };
  }
}

async function* dropFirst(pages: AsyncIterable<UserPage>, n: number): AsyncIterable<UserPage> {
  let left = n;
  for await (const page of pages) {
    if (left === 0) {
      yield page;
      continue;
    }
    const drop = Math.min(left, page.users.length);
    left -= drop;
    yield { users: page.users.slice(drop), next: page.next };
  }
}
