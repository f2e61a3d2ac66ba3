/**
 * A zone's UTC offsets, learnt as spans of constant offset. Asking Intl (through luxon's IANAZone)
 * costs microseconds and every wall-clock placement asks several times, so the first question about
 * an instant finds the whole span around it (walking a day at a time, then pinning each edge to the
 * millisecond) and later ones are a binary search. This assumes no zone changes its offset and back
 * within one day, which no zone has done since 1970.
 */
import { IANAZone } from 'luxon';

const MINUTE = 60_000;
const DAY = 86_400_000;
/** How far each way a span is walked: a zone without daylight saving gets one span of 800 days. */
const WALK_DAYS = 400;
/** Spans a zone remembers; past that they are forgotten and learnt again. */
const SPANS_KEPT = 256;

interface Span {
  /** First instant with `offset`. */
  from: number;
  /** First instant after the span. */
  to: number;
  /** In ms. */
  offset: number;
}

export class ZoneOffsets {
  private readonly zone: IANAZone;
  /** Sorted, without overlaps. */
  private spans: Span[] = [];

  constructor(tz: string) {
    this.zone = IANAZone.create(tz);
  }

  /** The offset at `instant`, in ms. */
  at(instant: number): number {
    let lo = 0;
    let hi = this.spans.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const span = this.spans[mid] as Span;
      if (instant < span.from) hi = mid - 1;
      else if (instant >= span.to) lo = mid + 1;
      else return span.offset;
    }
    return this.learn(instant);
  }

  private learn(instant: number): number {
    const offset = this.ask(instant);
    const span = { from: this.edge(instant, offset, -1), to: this.edge(instant, offset, 1), offset };
    if (this.spans.length >= SPANS_KEPT) this.spans = [];
    // A walk stopped by WALK_DAYS may reach into a known span of the same offset: merge them.
    const kept = this.spans.filter((s) => s.to <= span.from || s.from >= span.to);
    for (const s of this.spans) {
      if (!kept.includes(s)) {
        span.from = Math.min(span.from, s.from);
        span.to = Math.max(span.to, s.to);
      }
    }
    kept.push(span);
    this.spans = kept.sort((a, b) => a.from - b.from);
    return offset;
  }

  /** Going back (dir -1): the span's first instant. Going on (dir 1): the first instant after it. */
  private edge(instant: number, offset: number, dir: -1 | 1): number {
    let same = instant;
    for (let day = 0; day < WALK_DAYS; day++) {
      const probe = same + dir * DAY;
      if (this.ask(probe) !== offset) return this.pin(same, probe, offset, dir);
      same = probe;
    }
    return dir === 1 ? same + 1 : same;
  }

  /** Between `same` (with `offset`) and `other` (without), the edge to the millisecond. */
  private pin(same: number, other: number, offset: number, dir: -1 | 1): number {
    let inside = same;
    let outside = other;
    while (Math.abs(outside - inside) > 1) {
      const mid = Math.floor((inside + outside) / 2);
      if (this.ask(mid) === offset) inside = mid;
      else outside = mid;
    }
    return dir === 1 ? outside : inside;
  }

  private ask(instant: number): number {
    return Math.round(this.zone.offset(instant) * MINUTE);
  }
}
