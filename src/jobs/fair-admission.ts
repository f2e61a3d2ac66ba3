/**
 * Fair admission, one per process (docs/fair-share.md). A fair kind's job is filed in its owner's
 * backlog in Redis; refills move the next jobs, owner by owner in weighted virtual time, into the
 * kind's queue while it holds fewer than the window's jobs. A refill is one script call and a few
 * transactions sent together, and is run when a job is added, when a job starts (its place in the
 * window opens), when a capped owner's job ends, and every second while a worker serves the kind:
 * never per owner.
 * Refills of one kind run one at a time per process; what asks for one meanwhile gets one more after.
 */
import type { KindConfig } from '../config/kind-config.js';
import { scripted } from '../redis/commands.js';
import type { Logger } from '../telemetry/logger.js';
import { type Admission, type Admitted, addAdmitted, type Spec } from './fair-admit.js';
import { Filing } from './fair-filing.js';
import { ADMIT_IN_FLIGHT_MS, admitGraceMs } from './fair-grace.js';
import { type FairKeys, fairKeys, refillKeys } from './fair-keys.js';
import { admissionOwner } from './owner.js';
import type { Queues } from './queues.js';
import type { JobData } from './registry.js';

/** Most jobs one refill hands out. */
const MOST_PER_REFILL = 1000;
/** Most pages of MOST_PER_REFILL jobs a worker of a kind no longer fair moves from its backlogs at start. */
const MOST_DRAIN_PAGES = 1000;
/** How often a worker serving a fair kind refills it, whatever else happens. */
export const REFILL_EVERY_MS = 1000;
/** How long a capped owner's hold lasts without renewal (the job's worker died, or it never started). */
export const HOLD_LEASE_MS = 5 * 60_000;

type Why = 'add' | 'start' | 'end' | 'timer';

interface KindState {
  keys: FairKeys;
  running: Promise<void> | undefined;
  again: boolean;
  /** The last refill found the window full while owners had work: an add alone opens no room. */
  full: boolean;
  timer: NodeJS.Timeout | undefined;
  /** Jobs this process saw start since its last refill, and how many make the next one worth it. */
  started: number;
  every: number;
  /** Made on the first add of the kind in this process. */
  filing?: Filing;
}

const admissions = new WeakMap<Queues, FairAdmission>();

/**
 * After how many of its own starts a process refills a full window again: when half of it has
 * drained, counting the other processes that drain it too (the refill that filled it admitted about
 * `handedOut` places for the `seen` starts of this one), so each refill admits a batch and the window
 * never runs dry. A window that was not full (no backlog) is refilled at each start, so a job filed
 * by another process meanwhile is admitted at once.
 */
export function refillEvery(window: number, full: boolean, seen: number, handedOut: number): number {
  if (!full) return 1;
  const processes = seen > 0 ? Math.max(1, handedOut / seen) : 1;
  return Math.max(1, Math.floor(window / (2 * processes)));
}

/** The process's fair admission over these queue handles, made on first use and closed with them. */
export function fairOf(queues: Queues): FairAdmission {
  let a = admissions.get(queues);
  if (!a) {
    const made = new FairAdmission(queues, queues.log);
    queues.onClose(() => made.close());
    admissions.set(queues, made);
    a = made;
  }
  return a;
}

export class FairAdmission {
  private readonly kinds = new Map<string, KindState>();
  private readonly draining = new Set<Promise<unknown>>();
  private closed = false;
  private lastError = '';
  private readonly graceMs: number;

  constructor(
    private readonly queues: Queues,
    private readonly log: Logger,
  ) {
    this.graceMs = admitGraceMs(queues.settings.lockDurationMs);
  }

  private state(kind: KindConfig): KindState {
    let s = this.kinds.get(kind.name);
    if (!s) {
      s = {
        keys: fairKeys(this.queues.prefix, kind),
        running: undefined,
        again: false,
        full: false,
        timer: undefined,
        started: 0,
        every: 1,
      };
      this.kinds.set(kind.name, s);
    }
    return s;
  }

  /**
   * Files a job in its owner's backlog (or, due later than now, until it is due) and asks for a
   * refill; resolves with the job's id, or the id of the job it already is (or, coalescing, was
   * merged into).
   */
  async add(kind: KindConfig, jobId: string, data: JobData, coalesce = false, delayMs = 0): Promise<string> {
    const s = this.state(kind);
    s.filing ??= new Filing(this.queues.conn, s.keys, () => this.kick(kind, 'add'));
    const t = Date.now();
    const spec: Spec = { t, d: data, ...(delayMs > 0 ? { a: t + Math.round(delayMs) } : {}) };
    // Said for every user job: a spec without it was filed by an earlier version, which coalesced all.
    if ('userId' in data) spec.c = coalesce ? 1 : 0;
    return s.filing.file(jobId, JSON.stringify(spec), admissionOwner(data), coalesce, spec.a);
  }

  /** Asks for a refill of the kind; coalesced with one running, never waited for. */
  kick(kind: KindConfig, why: Why): void {
    if (!kind.fair || this.closed) return;
    const s = this.state(kind);
    if (why === 'add' && s.full) return;
    // Each start opens one place; refilling once a part of the window drained admits in batches,
    // with the window still far from dry (`every`, from the last refill, loop() below).
    if (why === 'start' && ++s.started < s.every) return;
    if (s.running) {
      s.again = true;
      return;
    }
    s.running = this.loop(kind, s).finally(() => {
      s.running = undefined;
    });
  }

  /** Refills the kind now and waits for it (tests, and a command about to exit). */
  async settle(kind: KindConfig): Promise<void> {
    const s = this.state(kind);
    while (s.running) await s.running;
    this.kick(kind, 'timer');
    await s.running;
  }

  /** Refills the kind every REFILL_EVERY_MS while this process serves it (a worker consuming it). */
  serve(kind: KindConfig): void {
    const s = this.state(kind);
    if (!kind.fair || s.timer || this.closed) return;
    s.timer = setInterval(() => this.kick(kind, 'timer'), REFILL_EVERY_MS);
    s.timer.unref();
    this.kick(kind, 'timer');
  }

  /**
   * A kind no longer fair (its workers and adders run without `fair` now): the jobs filed while it
   * was go into its queue, a page at a time, so none is stranded in a backlog. Resolves with how many.
   */
  drain(kind: KindConfig): Promise<number> {
    if (kind.fair || this.closed) return Promise.resolve(0);
    const done = this.drainPages(kind).catch((err: Error) => {
      this.log.warn({ kind: kind.name, err: err.message }, 'fair admission: could not move the backlog of a kind no longer fair');
      return 0;
    });
    this.draining.add(done);
    void done.finally(() => this.draining.delete(done));
    return done;
  }

  private async drainPages(kind: KindConfig): Promise<number> {
    const k = this.state(kind).keys;
    if ((await this.queues.conn.exists(k.specs)) === 0) return 0;
    let moved = 0;
    for (let page = 0; page < MOST_DRAIN_PAGES && !this.closed; page++) {
      // No window and no cap: every job filed goes, the admission's crash safety kept.
      const { jobs } = await this.callRefill(k, String(Number.MAX_SAFE_INTEGER), '0', true, '+inf');
      if (jobs.length === 0) break;
      const admission = await addAdmitted(this.queues.get(kind.queue), kind, k, jobs, true);
      moved += jobs.length - admission.refused.length;
      this.report(
        kind,
        admission,
        'warn',
        'fair admission: the queue refused jobs of a kind no longer fair; they stay admitting until a worker of the kind starts again',
      );
    }
    if (moved > 0)
      this.log.info({ kind: kind.name, jobs: moved }, 'fair admission: the kind is no longer fair; its backlog went into its queue');
    return moved;
  }

  /**
   * One call of the refill script: whether the window ran full, and the jobs it handed out. Jobs
   * filed for later join the backlogs once due by `horizon` (a time in ms, `now`, or `+inf`).
   * `setsCap`: whether this process's owner cap rules. Only a process that consumes the kind (or
   * drains it) changes the cap; a process that only adds jobs (the API, the producer) refills by the
   * cap the workers recorded, so one started without the variable does not drop the holds.
   */
  private async callRefill(
    k: FairKeys,
    window: string,
    cap: string,
    setsCap: boolean,
    horizon = 'now',
  ): Promise<{ full: boolean; jobs: Admitted[] }> {
    const [full, ...flat] = await scripted(this.queues.conn).sjFairRefill(
      ...refillKeys(k),
      window,
      String(this.graceMs),
      String(MOST_PER_REFILL),
      cap,
      String(HOLD_LEASE_MS),
      horizon,
      setsCap ? '1' : '0',
      String(Math.min(this.graceMs, ADMIT_IN_FLIGHT_MS)),
    );
    const jobs: Admitted[] = [];
    for (let i = 0; i + 1 < flat.length; i += 2) jobs.push({ id: String(flat[i]), spec: String(flat[i + 1]) });
    return { full: full === 1, jobs };
  }

  private async loop(kind: KindConfig, s: KindState): Promise<void> {
    do {
      s.again = false;
      const seen = s.started;
      s.started = 0;
      try {
        const { full, handedOut } = await this.refill(kind, s.keys);
        s.full = full;
        s.every = refillEvery(kind.fair?.window ?? 1, full, seen, handedOut);
        // A refill stopped by its own limit, not by the window: there may be room for more.
        if (handedOut >= MOST_PER_REFILL && !full) s.again = true;
        this.lastError = '';
      } catch (err) {
        const message = (err as Error).message;
        if (message !== this.lastError) this.log.warn({ kind: kind.name, err: message }, 'fair admission: refill failed; retrying');
        this.lastError = message;
        return;
      }
    } while (s.again && !this.closed);
  }

  /** One refill: the script hands jobs out, transactions of a few dozen add and acknowledge them. */
  private async refill(kind: KindConfig, k: FairKeys): Promise<{ full: boolean; handedOut: number }> {
    const fair = kind.fair;
    if (!fair) return { full: false, handedOut: 0 };
    const asked = Date.now();
    const { full, jobs } = await this.callRefill(
      k,
      String(fair.window),
      String(fair.ownerConcurrency ?? 0),
      this.state(kind).timer !== undefined,
    );
    if (jobs.length === 0) return { full, handedOut: 0 };
    // Too late to add safely: another process may admit these again any moment; leave them to it.
    if (Date.now() - asked > this.graceMs / 2) {
      this.log.warn(
        { kind: kind.name, jobs: jobs.length },
        'fair admission: a refill answered too late; its jobs are admitted again after the grace',
      );
      return { full, handedOut: jobs.length };
    }
    const admission = await addAdmitted(this.queues.get(kind.queue), kind, k, jobs);
    this.report(kind, admission, 'error', 'fair admission: the queue refused admitted jobs; tried again after the grace');
    return { full, handedOut: jobs.length };
  }

  /**
   * What an add of admitted jobs met, logged: jobs that went in but stay admitting (the one way left
   * to a second admission), jobs the queue refused (`refusedMsg`), or an error recovered from.
   */
  private report(kind: KindConfig, { refused, unacknowledged, error }: Admission, level: 'warn' | 'error', refusedMsg: string): void {
    const err = error ? { err: error } : {};
    if (unacknowledged.length > 0)
      this.log.error(
        { kind: kind.name, jobIds: unacknowledged.slice(0, 10), jobs: unacknowledged.length, ...err },
        'fair admission: jobs went into the queue but could not be acknowledged; one that finishes and is removed within the grace is admitted again',
      );
    if (refused.length > 0) this.log[level]({ kind: kind.name, jobIds: refused.slice(0, 10), ...err }, refusedMsg);
    else if (error && unacknowledged.length === 0)
      this.log.warn(
        { kind: kind.name, err: error },
        'fair admission: the jobs went into the queue after an error Redis answered; recovered',
      );
  }

  /** Stops the timers and waits for the refills in flight. */
  async close(): Promise<void> {
    this.closed = true;
    for (const s of this.kinds.values()) clearInterval(s.timer);
    await Promise.allSettled([...this.kinds.values()].map((s) => s.running));
    await Promise.allSettled([...this.draining]);
  }
}
