/** Where the bench finds the repository and the programs it starts (this file runs from dist-bench/bench/lib/). */
import { resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '../../..');
export const CLI = resolve(ROOT, 'dist/cli.js');
export const NOOP_HANDLERS = resolve(ROOT, 'bench/noop-handlers.mjs');
export const LAG_HANDLERS = resolve(ROOT, 'bench/lag-handlers.mjs');
export const SLEEP_HANDLERS = resolve(ROOT, 'bench/sleep-handlers.mjs');
export const PLAIN_WORKER = resolve(ROOT, 'dist-bench/bench/plain-worker.js');
