/**
 * Resumable user listing for windowed fan-outs. A position is how many users a tick has passed, and,
 * for sources that page with a cursor (HTTP mode, a module whose listUsers takes `{ cursor, limit }`),
 * that source's cursor, so a tick resumed by another producer asks for the right page directly. Plain
 * iterables are listed again and skipped up to the position.
 */
import type { ListPosition, UserPage } from './list-position.js';
import type { Handlers } from './types.js';

/**
 * Pages from `from` on: the source's own cursor where it has one, otherwise re-listed and skipped.
 * The first page holds at most `first` users when given, asked of the source as a page of its own,
 * so a position after it is a page boundary like any other.
 */
export async function* userPages(
  handlers: Handlers,
  from: ListPosition,
  size: number,
  signal?: AbortSignal,
  first?: number,
): AsyncIterable<UserPage> {
  const within = from.within ?? 0;
  // The page holding the position starts `within` users earlier; those are dropped again. That
  // page is asked for at the size it was listed at, so the users dropped are the ones passed.
  const pageStart: ListPosition = { skip: from.skip - within, ...(from.token !== undefined ? { token: from.token } : {}) };
  const firstPage = within === 0 ? first : undefined;
  const pages = handlers.listFrom
    ? handlers.listFrom(pageStart, size, signal, firstPage)
    : firstCut(skipTo(handlers.listUsers(size, signal), pageStart), firstPage);
  yield* dropFirst(pages, within);
}

/**
 * A listing without a cursor, its first page cut after `n` users into a page of its own: there a
 * position is a count of users passed, so a cut is a boundary like any other.
 */
export async function* firstCut(pages: AsyncIterable<UserPage>, n: number | undefined): AsyncIterable<UserPage> {
  let cut = n === undefined;
  for await (const page of pages) {
    if (!cut && n !== undefined && page.users.length > n && page.next.token === undefined) {
      const start = page.next.skip - page.users.length;
      yield { users: page.users.slice(0, n), next: { skip: start + n } };
      yield { users: page.users.slice(n), next: page.next };
    } else yield page;
    cut = true;
  }
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
