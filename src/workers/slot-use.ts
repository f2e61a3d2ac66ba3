/** A work queue's slots in one worker process: its concurrency and how many run now. */
export interface SlotUse {
  queue: string;
  busy: number;
  concurrency: number;
  /** Jobs this process fetched ahead and holds waiting for a slot now (0 when it fetches none ahead). */
  heldAhead: number;
  /** Jobs fetched ahead that this process gave back to the queue since it started. */
  givenBack: number;
}
