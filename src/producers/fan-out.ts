/**
 * One tick → one job per user. Pages through the users, bulk-adds a page at a time with ids derived
 * from the tick and the user (so a fan-out redone after a crash adds nothing twice), coalesces users
 * whose previous job has not started, and keeps at most a window of the queue's jobs waiting.
 *
 * A tick goes on where the schedule's listing stands (where the last tick stopped), runs to the end of
 * the listing, wraps round to the start and stops where it began: at most one round per tick, and over
 * ticks that supersede each other every user is reached once before any user is reached again.
 */

import type { Config } from '../config/config.js';
import type { ListPosition, UserPage } from '../handlers/list-position.js';
import type { Handlers } from '../handlers/types.js';
import { userPages } from '../handlers/user-pages.js';
import type { Queues } from '../jobs/queues.js';
import type { Logger } from '../telemetry/logger.js';
import { tracer } from '../telemetry/tracing.js';
import { addUsers } from './add-users.js';
import { guardPages, ListingBudget, ListingLimitError, sleep } from './listing-limits.js';
import type { FanOutProgress, ListingProgress, Tick } from './tick.js';
import { TickCursor, type TickState } from './tick-cursor.js';

export { spreadDelay } from './add-users.js';

/** The longest pause between two looks at a full window, and between two looks at who pages. */
const POLL_MAX_MS = 500;
/**
 * Jobs in a new tick's first bulk add. A bulk add reaches Redis only once all its jobs are built, and
 * a worker's fetch waits behind it: a whole first part would keep every worker idle for tens of
 * milliseconds after the tick. The rest of the part follows at once, under the same position: the
 * cut is no stopping place, so a tick is only ever taken over or resumed at a page's or part's end.
 */
const FIRST_BULK = 100;

type Deps = { queues: Queues; handlers: Handlers; config: Config; log: Logger };

/** Stops the paging when a newer tick took over; carries who. */
class Superseded extends Error {
  constructor(readonly by: string) {
    super(`superseded by tick ${by}`);
  }
}

export async function fanOut(
  deps: Deps,
  tick: Tick,
  onPage?: (p: FanOutProgress) => Promise<void>,
  signal?: AbortSignal,
): Promise<FanOutProgress> {
  const cursor = new TickCursor(deps.queues.conn, deps.config.prefix, tick.kind.name, tick.tickId, tick.scheduledFor, deps.log);
  // A tick taken over from a producer that died goes on where that one stopped.
  const saved = await cursor.load();
  const claim = await cursor.claim();
  if (!claim.ok) {
    // A superseded tick never pages again: its cursor goes at once.
    await cursor.finish();
    const counts = saved?.progress ?? { users: 0, added: 0, coalesced: 0, errors: 0, duplicates: 0 };
    return { ...counts, ...(saved ? { listing: listingOf(saved, undefined) } : {}), superseded: true, supersededBy: claim.by };
  }
  const state: TickState = saved ?? {
    start: claim.position,
    position: claim.position,
    wrapped: false,
    progress: { users: 0, added: 0, coalesced: 0, errors: 0, duplicates: 0 },
  };
  return new FanOutRun(deps, tick, cursor, state, claim.length, onPage, signal).run();
}

function listingOf(s: TickState, length: number | undefined, reached = s.position.skip): ListingProgress {
  return { from: s.start.skip, reached, ...(length !== undefined ? { of: length } : {}), wrapped: s.wrapped };
}

const atStart = (p: ListPosition) => p.skip === 0 && !p.within && p.token === undefined;

class FanOutRun {
  private readonly window: number;
  private readonly pageSize: number;
  private readonly stop = new AbortController();
  private readonly signal: AbortSignal;
  private readonly budget: ListingBudget;
  private pageNo = 0;
  private atEnd = false;

  constructor(
    private readonly deps: Deps,
    private readonly tick: Tick,
    private readonly cursor: TickCursor,
    private readonly state: TickState,
    private length: number | undefined,
    private readonly onPage: ((p: FanOutProgress) => Promise<void>) | undefined,
    outer: AbortSignal | undefined,
  ) {
    this.window = tick.window ?? 0;
    // With a window, pages are at most half of it, so a page fits as soon as half the window drained.
    const { fanoutPage } = deps.config;
    this.pageSize = this.window > 0 ? Math.min(fanoutPage, Math.max(1, Math.floor(this.window / 2))) : fanoutPage;
    this.signal = outer ? AbortSignal.any([outer, this.stop.signal]) : this.stop.signal;
    this.budget = new ListingBudget(deps.config.fanoutLimits.deadlineMs, (err) => this.stop.abort(err));
  }

  private get progress(): FanOutProgress {
    // A tick that stopped at the end of the listing reached its length, though the position is back at 0.
    const reached = this.atEnd ? this.length : undefined;
    return { ...this.state.progress, listing: listingOf(this.state, this.length, reached) };
  }

  async run(): Promise<FanOutProgress> {
    // A newer tick is noticed within half a second whatever this one waits for (a page that does not
    // come, room in the window), so a schedule holds a tick slot for one tick at a time.
    // One look at a time: while Redis is away, looks would otherwise pile up in the client's queue.
    let looking = false;
    const watch = setInterval(() => {
      if (looking) return;
      looking = true;
      this.cursor
        .supersededBy()
        .then(
          (by) => by !== undefined && this.stop.abort(new Superseded(by)),
          () => {},
        )
        .finally(() => {
          looking = false;
        });
    }, POLL_MAX_MS);
    this.budget.run();
    try {
      while (!(await this.pass())) {
        this.length = this.state.position.skip;
        if (this.state.wrapped || atStart(this.state.start)) {
          // A round from the start, or a listing that got shorter than where the tick began.
          this.atEnd = true;
          await this.advance({ skip: 0 }, [], false);
          break;
        }
        // The end of the listing: on from its start, up to where this tick began.
        this.state.wrapped = true;
        await this.advance({ skip: 0 }, [], false);
      }
      await this.cursor.finish();
      return this.progress;
    } catch (err) {
      const reason: unknown = this.stop.signal.aborted ? this.stop.signal.reason : err;
      if (reason instanceof Superseded) {
        await this.cursor.finish();
        return { ...this.progress, superseded: true, supersededBy: reason.by };
      }
      if (reason instanceof ListingLimitError) throw reason;
      throw err;
    } finally {
      clearInterval(watch);
      this.budget.pause();
    }
  }

  /** One pass from the tick's position: true when it came round to where it began, false at the end of the listing. */
  private async pass(): Promise<boolean> {
    const from = this.state.position;
    const pages = guardPages(
      userPages(this.deps.handlers, from, this.pageSize, this.signal),
      from,
      this.deps.config.fanoutLimits,
      this.signal,
    );
    for await (const page of pages) {
      const left = this.state.wrapped ? this.leftInRound(page) : undefined;
      if (left !== undefined) {
        await this.addInParts(page.users.slice(0, left), this.state.start);
        return true;
      }
      await this.addInParts(page.users, page.next);
    }
    return false;
  }

  /**
   * In the pass after the wrap: how many of this page's users come before where the tick began, or
   * undefined while that is further on. The tick began at its first user, wherever users joined or
   * left before it since: a count would stop short of some users every round, for as long as ticks
   * complete their rounds. A tick that added nobody before the wrap can only count.
   */
  private leftInRound(page: UserPage): number | undefined {
    const first = this.state.firstUser;
    if (first !== undefined) {
      const at = page.users.indexOf(first);
      return at >= 0 ? at : undefined;
    }
    const left = this.state.start.skip - this.state.position.skip;
    return page.users.length >= left ? Math.max(0, left) : undefined;
  }

  /**
   * Adds a page in parts that fit the window (a source may answer more than the limit asked for),
   * each waiting for its room; the position moves on after each part, mid-page where need be.
   */
  private async addInParts(users: string[], next: ListPosition): Promise<void> {
    const size = this.window > 0 ? Math.max(1, Math.floor(this.window / 2)) : Math.max(1, users.length);
    for (let i = 0; i === 0 || i < users.length; i += size) {
      const part = users.slice(i, i + size);
      const at = this.state.position;
      const after: ListPosition =
        i + size >= users.length
          ? next
          : { skip: at.skip + part.length, ...(at.token !== undefined ? { token: at.token } : {}), within: (at.within ?? 0) + part.length };
      if (this.window > 0 && part.length > 0) await this.waitForRoom(this.window - part.length);
      await this.advance(after, part);
    }
  }

  /**
   * Moves the schedule's position to `after` (failing when a newer tick took over), then adds
   * `users`: a newer tick taking over in between goes on after them, never doubling them.
   */
  private async advance(after: ListPosition, users: string[], report = true): Promise<void> {
    const by = await this.cursor.reserve(after, after.skip === 0 && this.length !== undefined ? this.length : undefined);
    if (by !== undefined) throw new Superseded(by);
    if (users.length > 0) await this.traced(users);
    if (!this.state.wrapped) this.state.firstUser ??= users[0];
    this.state.position = after;
    // Saved after the add: a crash in between redoes the part, and the job ids add nothing twice.
    await this.cursor.save(this.state);
    if (report) await this.onPage?.(this.progress);
  }

  /** One span per part (tracing on): the parent of the BullMQ add whose context every job carries. */
  private traced(users: string[]): Promise<void> {
    return tracer.startActiveSpan('fan-out page', async (span) => {
      try {
        const p = this.state.progress;
        const before = { ...p };
        await addUsers(this.deps, this.tick, users, p, p.users === 0 ? FIRST_BULK : undefined);
        span.setAttributes({
          'spotter.schedule': this.tick.kind.name,
          'spotter.tick_id': this.tick.tickId,
          'spotter.page': this.pageNo++,
          'spotter.page.users': p.users - before.users,
          'spotter.page.added': p.added - before.added,
          'spotter.page.coalesced': p.coalesced - before.coalesced,
        });
      } catch (err) {
        span.recordException(err as Error);
        throw err;
      } finally {
        span.end();
      }
    });
  }

  /** Waits until the queue holds at most `limit` (≥ 0) jobs not yet started: waiting, prioritized, delayed. */
  private async waitForRoom(limit: number): Promise<void> {
    const queue = this.deps.queues.get(this.tick.kind.queue);
    // Waiting for workers is not listing: the deadline's clock stops meanwhile.
    this.budget.pause();
    try {
      for (let delay = 20; ; delay = Math.min(delay * 2, POLL_MAX_MS)) {
        const c = await queue.getJobCounts('waiting', 'prioritized', 'delayed');
        if ((c.waiting ?? 0) + (c.prioritized ?? 0) + (c.delayed ?? 0) <= limit) return;
        await sleep(delay, this.signal);
      }
    } finally {
      this.budget.run();
    }
  }
}
