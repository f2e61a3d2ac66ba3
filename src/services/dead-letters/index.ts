/**
 * Dead letters, all of it: the first-attempt stamp a failed attempt leaves on its job
 * (`source-fields.ts`), the entry a final failure becomes (`entry.ts`), the store with its record,
 * list, replay and purge (`store.ts`, `replay.ts`), the worker's `failed` listener that records it at
 * once (`on-failed.ts`) and the sweep that catches what that missed (`sweep.ts`).
 */
export type { DeadLetter } from './entry.js';
export { recordDeadLetters } from './on-failed.js';
export type { Replayed, ReplaySelection } from './replay.js';
export { DEAD_LETTERED_FIELD, stampFirstAttempt } from './source-fields.js';
export { DeadLetters } from './store.js';
export { DeadLetterSweep } from './sweep.js';
