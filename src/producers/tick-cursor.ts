/**
 * What a fan-out keeps in Redis. Per schedule: which tick pages now (so an older tick stops when a
 * newer one starts) and where the schedule's listing stands (so the newer tick goes on from there and
 * every user is reached once before any is reached again). Per tick: how far it got, so the producer
 * that takes the tick over after a crash resumes there.
 */
import { z } from 'zod';
import type { ListPosition } from '../handlers/list-position.js';
import { scripted } from '../redis/commands.js';
import type { RedisClient } from '../redis/connection.js';
import { fanoutCursorKey, fanoutScheduleKey } from '../redis/keys.js';
import type { Logger } from '../telemetry/logger.js';

/** Long enough for any tick to finish; each save renews it. */
const TTL_MS = 24 * 3600_000;

const position = z.object({
  skip: z.number().int().nonnegative(),
  token: z.string().optional(),
  within: z.number().int().nonnegative().optional(),
});
const count = z.number().int().nonnegative();
const tickState = z.object({
  // A cursor written before ticks went on from each other's positions began at the start.
  start: position.default({ skip: 0 }),
  position,
  wrapped: z.boolean().default(false),
  /** The first user this tick added: the pass after the wrap stops before it. */
  firstUser: z.string().optional(),
  progress: z.object({ users: count, added: count, coalesced: count, errors: count, duplicates: count.default(0) }),
});

/** A tick's own cursor: where it began in the listing, what it has added, whether it went round. */
export type TickState = z.infer<typeof tickState>;

export type Claim =
  | { ok: true; position: ListPosition; length: number | undefined; previous: string | undefined }
  | { ok: false; by: string };

export class TickCursor {
  private readonly cursorKey: string;
  private readonly scheduleKey: string;
  constructor(
    private readonly conn: RedisClient,
    prefix: string,
    schedule: string,
    private readonly tickId: string,
    private readonly scheduledFor: number,
    private readonly log: Logger,
  ) {
    this.cursorKey = fanoutCursorKey(prefix, tickId);
    this.scheduleKey = fanoutScheduleKey(prefix, schedule);
  }

  /** The tick's cursor when a producer already paged it; an unreadable one is logged and ignored. */
  async load(): Promise<TickState | undefined> {
    const raw = await this.conn.get(this.cursorKey);
    return raw === null ? undefined : this.read(raw, tickState, 'the fan-out cursor of this tick');
  }

  /** After each page (or part of one) is added: a crash from here on resumes after it. */
  async save(s: TickState): Promise<void> {
    await this.conn.set(this.cursorKey, JSON.stringify(s), 'PX', TTL_MS);
  }

  /** Makes this tick the one paging for its schedule, unless a newer one already is. */
  async claim(): Promise<Claim> {
    const [ok, a, b, c] = (await scripted(this.conn).sjFanoutClaim(this.scheduleKey, this.tickId, String(this.scheduledFor))) as [
      number,
      string,
      string?,
      string?,
    ];
    if (ok !== 1) return { ok: false, by: a };
    const length = b ? Number(b) : undefined;
    return {
      ok: true,
      position: (a ? this.read(a, position, "the schedule's listing position") : undefined) ?? { skip: 0 },
      length: length !== undefined && Number.isSafeInteger(length) && length >= 0 ? length : undefined,
      previous: c && c !== this.tickId ? c : undefined,
    };
  }

  /**
   * Moves the schedule's listing position to `next` before the users up to it are added, so a newer
   * tick that takes over goes on after them. Returns the id of the tick that took over, if one did.
   */
  async reserve(next: ListPosition, length?: number): Promise<string | undefined> {
    const r = await scripted(this.conn).sjFanoutReserve(
      this.scheduleKey,
      this.tickId,
      JSON.stringify(next),
      length === undefined ? '' : String(length),
    );
    return r === 1 ? undefined : String(r);
  }

  /** The tick paging for the schedule now, when it is not this one. */
  async supersededBy(): Promise<string | undefined> {
    const cur = await this.conn.hget(this.scheduleKey, 'tick');
    return cur !== null && cur !== this.tickId ? cur : undefined;
  }

  /**
   * The tick is done: its cursor goes. The schedule's record stays, so an older tick redone later,
   * its producer having died, still finds a newer one and does not page again.
   */
  async finish(): Promise<void> {
    await this.conn.del(this.cursorKey);
  }

  private read<T>(raw: string, schema: z.ZodType<T>, what: string): T | undefined {
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      parsed = undefined;
    }
    const r = schema.safeParse(parsed);
    if (r.success) return r.data;
    // Treated as absent: the listing starts again rather than the tick failing every attempt.
    this.log.warn({ tick: this.tickId, value: raw.slice(0, 200) }, `${what} is unreadable; starting the listing again`);
    return undefined;
  }
}
