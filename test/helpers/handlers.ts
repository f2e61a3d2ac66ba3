/** In-process handlers for tests: a fixed user list and one function for every queue. */
import { type Handler, type Handlers, paginate } from '../../src/handlers/types.js';

export function testHandlers(users: string[], run: Handler = async () => null): Handlers {
  return { mode: 'module', listUsers: (n) => paginate(users, n), run: { sync: run, enrichment: run, writeback: run } };
}

/** A promise with its resolve exposed, for handlers that wait until the test lets them finish. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}
