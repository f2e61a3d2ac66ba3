/** A work queue's slots in one worker process: its concurrency and how many run now. */
export interface SlotUse {
  queue: string;
  busy: number;
  concurrency: number;
}
