/**
 * The types a job's run shares between the processor's steps, its context, its failure path and its
 * exclusivity entry: what the consumer hands each kind's processor, and what an overdue attempt is.
 */
import type { KindConfig } from '../config/kind-config.js';
import type { AnyHandler } from '../handlers/types.js';
import type { Queues } from '../jobs/queues.js';
import type { Logger } from '../telemetry/logger.js';
import type { Exclusivity } from './exclusivity.js';
import type { SlotGate } from './slot-gate.js';

export interface RunHandlerDeps {
  kind: KindConfig;
  handler: AnyHandler;
  /** For `ctx.enqueue`: the queue handles and, through them, the catalog. */
  queues: Queues;
  log: Logger;
  /** True once shutdown passed its deadline: aborted jobs are then left for another worker. */
  leaving: () => boolean;
  /**
   * The jobs this process is running, by id, each with its abort controller once the handler has asked
   * for `ctx.signal` (created on demand: most of the per-job cost of a no-op handler was this).
   */
  running: Map<string, AbortController | undefined>;
  /** Per-attempt outcome and duration, for the metrics (completions are counted once stored, by the consumer). */
  observe?: (queue: string, outcome: 'completed' | 'retry' | 'dead_letter', seconds: number) => void;
  /** Attempts that timed out while their handler, ignoring its signal, still runs; by `jobId#attempt`. */
  overdue: Map<string, Overdue>;
  /** Per-user exclusivity groups; needed when the kind has one. */
  exclusivity?: Exclusivity;
  /** Running jobs whose BullMQ lock could not be renewed, reported by the consumer: aborted, never completed. */
  lostLocks?: Set<string>;
  /** A subject schedule's occurrence started this long after its time (the lag histogram). */
  observeScheduleLag?: (kind: string, stage: 'enqueued' | 'started', seconds: number) => void;
  /** This queue's slots in use, for the concurrency-in-use metric. */
  slots?: { busy: number };
  /** The kind's slots when its worker fetches jobs ahead of them (slot-gate.ts). */
  gate?: SlotGate;
}

export interface Overdue {
  queue: string;
  jobId: string;
  attempt: number;
  /** When the attempt timed out (epoch ms). */
  since: number;
}
