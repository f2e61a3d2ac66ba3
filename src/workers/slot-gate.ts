/**
 * A kind's slots in one worker process, and the jobs it fetches ahead of them (docs/behaviour.md).
 *
 * BullMQ frees a slot only once the finished job's result is stored, and fetches the next job in
 * that same round trip: each job's slot sits idle for a Redis round trip after its handler. With
 * short handlers on a busy machine that is a tenth of the time or more. So the worker lets BullMQ
 * hold a few jobs more than the kind's concurrency (`extra`), and a job's handler starts only when
 * one of the `concurrency` slots is free: the next job is already here when a handler ends. The
 * concurrency cap still holds for what runs.
 *
 * `extra` starts at a fifth of the concurrency and then follows what the process sees: four times
 * the slots the round trip after each job would leave idle, `4 × concurrency × round trip ÷ time in
 * a slot`, at most a fifth of the concurrency, changed at most once a second. Jobs much longer than
 * the round trip get none. A job that waits for a slot longer than MOST_WAIT_MS (the running jobs
 * turned out long) is given back to the queue, and none is fetched ahead until completions say so
 * again, so another worker takes it.
 */
import type { KindConfig } from '../config/kind-config.js';

/** Longest a job fetched ahead waits for a slot before it is given back to the queue. */
export const MOST_WAIT_MS = 1000;
/** Weight of the newest measurement in the running averages. */
const ALPHA = 0.05;
/**
 * Least time between two changes of `extra`. BullMQ fetches the next job in a finished job's round
 * trip only while it holds fewer than its concurrency: lowered, the next fetches each take a round
 * trip of their own, and a value that moved with every job made ticks slower than none at all.
 */
const CHANGE_EVERY_MS = 1000;
/** One job in this many is measured for the averages: measuring each cost more than it told. */
const SAMPLE_EVERY = 8;
/** Settle times kept for measured jobs whose outcome BullMQ has not reported yet. */
const KEPT = 64;

/**
 * Whether a kind's worker fetches ahead. Not under a cluster-wide cap or a rate limit, which count
 * what BullMQ holds (a job held ahead here would keep another worker's free slot idle), nor with an
 * owner cap, whose places are taken when BullMQ hands a job out. Nor below a concurrency of 5,
 * where a fifth is less than one job.
 */
export function fetchesAhead(kind: KindConfig): boolean {
  return (
    mostExtra(kind.concurrency) > 0 && kind.globalConcurrency === undefined && !kind.rateLimit && kind.fair?.ownerConcurrency === undefined
  );
}

/** The most jobs fetched ahead for a concurrency. */
export function mostExtra(concurrency: number): number {
  return Math.floor(concurrency / 5);
}

/**
 * Jobs fetched ahead for slots of `slotMs` on average whose results take `turnMs` to be stored: four
 * times the slots the round trips leave idle, as round trips vary widely under load and a job
 * fetched ahead waits about one of them.
 */
export function extraFor(concurrency: number, turnMs: number, slotMs: number): number {
  if (!(slotMs > 0) || !(turnMs > 0)) return mostExtra(concurrency);
  return Math.min(mostExtra(concurrency), Math.round((4 * concurrency * turnMs) / slotMs));
}

interface Waiter {
  jobId: string;
  resolve: (slot: boolean) => void;
  since: number;
}

export class SlotGate {
  private free: number;
  private readonly waiters: Waiter[] = [];
  private timer: NodeJS.Timeout | undefined;
  /** Measured jobs whose handlers ended, by job id: when, and how long they held their slot. */
  private readonly settled = new Map<string, { at: number; slotMs: number }>();
  private slotMs = 0;
  private turnMs = 0;
  private closed = false;
  private counted = 0;
  /** The start counts as a change: the first second runs with the most, before any average settles. */
  private changedAt: number;
  /** Jobs fetched ahead now; BullMQ's concurrency is `concurrency + extra`. */
  extra: number;
  /** Jobs given back to the queue since the start (no slot in time, or the worker closing). */
  givenBack = 0;

  constructor(
    readonly concurrency: number,
    /** Told each time `extra` changes after the start. */
    private readonly onExtra: (extra: number) => void,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.free = concurrency;
    this.extra = mostExtra(concurrency);
    this.changedAt = now();
  }

  /** Resolves true with a slot taken, or false when none came within MOST_WAIT_MS (or the gate closed). */
  enter(jobId: string): true | Promise<boolean> {
    if (this.free > 0 && this.waiters.length === 0) {
      this.free--;
      return true;
    }
    if (this.closed) return Promise.resolve(false);
    return new Promise<boolean>((resolve) => {
      this.waiters.push({ jobId, resolve, since: this.now() });
      // One timer for all waiters, for the oldest: a timer per job cost more than the wait saved.
      if (!this.timer) this.armTimer();
    });
  }

  /** Gives back the waiters past MOST_WAIT_MS, then waits for the next oldest. */
  private armTimer(): void {
    const head = this.waiters[0];
    this.timer = undefined;
    if (!head) return;
    const due = head.since + MOST_WAIT_MS - this.now();
    this.timer = setTimeout(
      () => {
        const late = this.now() - MOST_WAIT_MS;
        while (this.waiters.length > 0 && (this.waiters[0] as Waiter).since <= late) this.waiters.shift()?.resolve(false);
        this.armTimer();
      },
      Math.max(0, due),
    );
    this.timer.unref();
  }

  /** When a job measured for the averages took its slot (every SAMPLE_EVERY-th job), or 0. */
  sample(): number {
    this.counted = (this.counted + 1) % SAMPLE_EVERY;
    return this.counted === 0 ? this.now() : 0;
  }

  /** A slot given back by the job `jobId`; `sampled` is what `sample()` said as it took the slot. */
  leave(jobId: string, sampled: number): void {
    const next = this.waiters.shift();
    if (next) next.resolve(true);
    else this.free++;
    // A job back from its group's delay, or rerun after a lost lock, comes under the same id: what its
    // earlier run left here must not be taken for this run's outcome.
    this.settled.delete(jobId);
    if (sampled === 0) return;
    const now = this.now();
    // Jobs whose outcome is never reported (delayed by their exclusivity group, a lost lock) are
    // forgotten oldest first, and never measured: a job put back at once says nothing of the slots.
    for (const old of this.settled.keys()) {
      if (this.settled.size < KEPT) break;
      this.settled.delete(old);
    }
    this.settled.set(jobId, { at: now, slotMs: now - sampled });
  }

  /** BullMQ reported the job's outcome stored: its time in the slot and the round trip after it are measured. */
  reported(jobId: string): void {
    const done = this.settled.get(jobId);
    if (done === undefined) return;
    this.settled.delete(jobId);
    const now = this.now();
    const turn = now - done.at;
    this.slotMs = this.slotMs === 0 ? done.slotMs : this.slotMs + ALPHA * (done.slotMs - this.slotMs);
    this.turnMs = this.turnMs === 0 ? turn : this.turnMs + ALPHA * (turn - this.turnMs);
    const extra = extraFor(this.concurrency, this.turnMs, this.slotMs);
    if (extra !== this.extra && now - this.changedAt >= CHANGE_EVERY_MS) {
      this.changedAt = now;
      this.extra = extra;
      this.onExtra(extra);
    }
  }

  /**
   * A job found no slot in time: the running ones are long. No more are fetched ahead at once
   * (whatever the last change), so the job given back goes to a worker with a free slot; completions
   * raise `extra` again if the round trip still matters.
   */
  gaveBack(): void {
    this.givenBack++;
    this.changedAt = this.now();
    if (this.extra === 0) return;
    this.extra = 0;
    this.onExtra(0);
  }

  /** Jobs waiting for a slot now. */
  waiting(): number {
    return this.waiters.length;
  }

  /** Whether the job is waiting for a slot here. */
  holds(jobId: string): boolean {
    return this.waiters.some((w) => w.jobId === jobId);
  }

  /** No more waits: the jobs waiting now, and any that come while no slot is free, are given back at once. */
  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    for (const w of this.waiters.splice(0)) w.resolve(false);
  }
}
