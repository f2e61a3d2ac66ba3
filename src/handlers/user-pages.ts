/**
 * Resumable user listing for windowed fan-outs. A position is how many users a tick has passed, and,
 * for sources that page with a cursor (HTTP mode, a module whose listUsers takes `{ cursor, limit }`),
 * that source's cursor, so a tick resumed by another producer asks for the next page directly. Plain
 * iterables are listed again and skipped up to the position.
 */
import type { Handlers } from './types.js';

export interface ListPosition {
  /** Users passed so far (invalid ids included). */
  skip: number;
  /** The source's cursor for the next page; undefined when the source has none. */
  token?: string;
}

export interface UserPage {
  users: string[];
  /** Where the listing stands after this page. */
  next: ListPosition;
}

/** Pages from `from` on: the source's own cursor where it has one, otherwise re-listed and skipped. */
export async function* userPages(handlers: Handlers, from: ListPosition, size: number, signal?: AbortSignal): AsyncIterable<UserPage> {
  if (handlers.listFrom) {
    yield* handlers.listFrom(from, size, signal);
    return;
  }
  yield* skipTo(handlers.listUsers(size, signal), from);
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
