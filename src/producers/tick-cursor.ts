/**
 * What a windowed fan-out keeps in Redis while it pages: how far its tick got (so the producer that
 * takes the tick over after a crash resumes there) and which tick of the schedule pages now (so an
 * older tick stops when a newer one starts, instead of both building a backlog).
 */
import type { ListPosition } from '../handlers/user-pages.js';
import type { RedisClient } from '../redis.js';
import type { FanOutProgress } from './fan-out.js';

/** Long enough for any tick to finish; each save renews it. */
const TTL_MS = 24 * 3600_000;

// The newest tick of a schedule pages; an older one (by due time) may not take over from it.
// KEYS[1] the schedule's paging key; ARGV tick id, due time, TTL. Returns 1 when this tick may page.
const CLAIM = `local cur = redis.call('get', KEYS[1])
if cur then
  local id, at = string.match(cur, '^(.*)|(%d+)$')
  if id ~= ARGV[1] and tonumber(at) > tonumber(ARGV[2]) then return 0 end
end
redis.call('set', KEYS[1], ARGV[1] .. '|' .. ARGV[2], 'PX', ARGV[3])
return 1`;

export interface SavedCursor {
  position: ListPosition;
  progress: FanOutProgress;
}

export class TickCursor {
  private readonly cursorKey: string;
  private readonly pagingKey: string;
  constructor(
    private readonly conn: RedisClient,
    prefix: string,
    schedule: string,
    private readonly tickId: string,
    private readonly scheduledFor: number,
  ) {
    this.cursorKey = `${prefix}:spotter-jobs:fanout:${tickId}`;
    this.pagingKey = `${prefix}:spotter-jobs:fanout-paging:${schedule}`;
  }

  async load(): Promise<SavedCursor | undefined> {
    const raw = await this.conn.get(this.cursorKey);
    return raw ? (JSON.parse(raw) as SavedCursor) : undefined;
  }

  /** After each page is added: a crash from here on resumes after it. */
  async save(c: SavedCursor): Promise<void> {
    await this.conn.set(this.cursorKey, JSON.stringify(c), 'PX', TTL_MS);
  }

  /** Makes this tick the one paging for its schedule, unless a newer one already is. */
  async claim(): Promise<boolean> {
    return (await this.conn.eval(CLAIM, 1, this.pagingKey, this.tickId, String(this.scheduledFor), String(TTL_MS))) === 1;
  }

  /** True once a newer tick of the schedule has started paging. */
  async superseded(): Promise<boolean> {
    const cur = await this.conn.get(this.pagingKey);
    return cur !== null && !cur.startsWith(`${this.tickId}|`);
  }

  /**
   * The tick is done: its cursor goes. The claim stays (it lapses with its TTL), so an older tick
   * redone later, its producer having died, still finds a newer one and does not page again.
   */
  async finish(): Promise<void> {
    await this.conn.del(this.cursorKey);
  }
}
