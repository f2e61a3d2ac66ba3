/** Harnesses and consumers a test opens in process, disposed after it, newest first. */
import { afterEach } from 'vitest';
import type { Handler } from '../../src/handlers/types.js';
import { Consumers } from '../../src/workers/consumer.js';
import { kinds, optionsFor, testHandlers } from './handlers.js';
import { type Harness, harness } from './harness.js';

export function useHarnesses() {
  const open: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const dispose of open.splice(0).reverse()) await dispose();
  });
  const onCleanup = (dispose: () => Promise<void>) => {
    open.push(dispose);
  };
  /** A harness on a fresh prefix (or the one given), removed with its keys after the test. */
  const h = async (env: Record<string, string> = {}, opts: Parameters<typeof harness>[1] = {}): Promise<Harness> => {
    const x = await harness(env, opts);
    onCleanup(() => x.dispose());
    return x;
  };
  /** Consumers of the named kinds running `run`, closed after the test. */
  const consume = (x: Harness, run: Handler, names: string[] = ['sync']): Consumers => {
    const c = new Consumers({ ...x, handlers: testHandlers([], run) }, kinds(x.config, ...names));
    c.start();
    onCleanup(() => c.close());
    return c;
  };
  return { h, consume, onCleanup };
}

/** One user's job, as a tick adds it, with the id `t__<userId>`. */
export const addUserJob = (x: Harness, userId: string, queue = 'sync') =>
  x.queues.get(queue).add('user', { userId, scheduledFor: 1, tick: 't' }, { ...optionsFor(x.config, queue), jobId: `t__${userId}` });
