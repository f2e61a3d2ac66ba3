/** In-process handlers for tests: a fixed user list and one function for every kind. */

import { BUILTIN_KINDS } from '../../src/config/catalog.js';
import type { Config } from '../../src/config/config.js';
import type { KindConfig } from '../../src/config/kind-config.js';
import { type AnyHandler, type Handler, type Handlers, paginate } from '../../src/handlers/types.js';
import { jobOptions } from '../../src/jobs/queues.js';
import { kindByNameOrQueue, kindsOf } from '../../src/jobs/registry.js';
import { Consumers } from '../../src/workers/consumer.js';
import type { Harness } from './harness.js';

export function testHandlers(users: string[], run: Handler = async () => null): Handlers {
  return { mode: 'module', listUsers: (n) => paginate(users, n), run: Object.fromEntries(Object.keys(BUILTIN_KINDS).map((k) => [k, run])) };
}

/** Kinds of `config` by name or queue name. */
export function kinds(config: Config, ...names: string[]): KindConfig[] {
  return names.map((n) => {
    const k = kindByNameOrQueue(config, n);
    if (!k) throw new Error(`no kind ${n}`);
    return k;
  });
}

/** The job options of the kind whose queue (or name) is `queue`. */
export function optionsFor(config: Config, queue: string) {
  return jobOptions(kinds(config, queue)[0] as KindConfig);
}

/** A promise with its resolve exposed, for handlers that wait until the test lets them finish. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** Handlers that run `run` by kind name, with no users to list. */
export function handlersWith(run: Record<string, AnyHandler>): Handlers {
  return { mode: 'module', listUsers: async function* () {}, run };
}

/** Consumers of the named kinds, closed with the harness. */
export function consumeKinds(h: Harness, run: Record<string, AnyHandler>, names: string[]): Consumers {
  const c = new Consumers(
    { ...h, handlers: handlersWith(run) },
    kindsOf(h.config).filter((k) => names.includes(k.name)),
  );
  c.start();
  h.lifecycle.add({ name: 'consumers', close: () => c.close() });
  return c;
}
