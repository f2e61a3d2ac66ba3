/** A tick as the producer fans it out, and what its fan-out counted. */
import type { KindConfig } from '../config/kind-config.js';

export interface Tick {
  kind: KindConfig;
  tickId: string;
  scheduledFor: number;
  spreadMs: number;
  /**
   * At most this many of the queue's jobs wait (not yet started) while the tick pages; 0 adds every
   * user at once. Ticks get SPOTTER_JOBS_FANOUT_WINDOW (windowFor).
   */
  window?: number;
}

export interface AddCounts {
  users: number;
  added: number;
  coalesced: number;
  errors: number;
  /** Ids whose job of this tick already existed: listed twice, or a page redone after its producer died. */
  duplicates: number;
}

/** How far a tick got through the schedule's listing, in users passed. */
export interface ListingProgress {
  /** Where the tick began: where the previous tick of the schedule stopped. */
  from: number;
  /** Where it stopped; equal to `from` after a whole round. */
  reached: number;
  /** The listing's length when a tick last got to its end; absent until one did. */
  of?: number;
  /** True once the tick passed the end of the listing and went on from the start. */
  wrapped: boolean;
}

export interface FanOutProgress extends AddCounts {
  listing?: ListingProgress;
  /** Set when a newer tick of the schedule started while this one was paging: it stopped there. */
  superseded?: boolean;
  /** The newer tick that took over, going on from `listing.reached`. */
  supersededBy?: string;
}
