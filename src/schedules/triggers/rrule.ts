/**
 * `rrule`: an RFC 5545 RRULE (see rrule-parts.ts for what is read) with the context's start as DTSTART
 * (its wall time in the zone, rounded up to the whole second), COUNT counted from the first run after
 * it and UNTIL honoured. Evaluated on floating wall time by the rrule package (rrule-floating.ts) and placed in the
 * zone by wall-clock.ts, by the same daylight-saving rule as cron. A rule with no occurrence within
 * 400 years of its start is refused. Canonical: the parts in a fixed order (rrule-parts.ts), without
 * DTSTART, e.g. `FREQ=WEEKLY;INTERVAL=2;BYDAY=TU;BYHOUR=9;BYMINUTE=34;BYSECOND=0`.
 */
import { BoundedCache, PARSED_KEPT } from './bounded-cache.js';
import { explicitParts, type Floating, nextFloating, rruleOptions } from './rrule-floating.js';
import { canonicalRrule, DAILY, looksLikeRrule, parseRuleParts, type RuleParts } from './rrule-parts.js';
import { neverRuns } from './rrule-reach.js';
import { RuleError } from './rule-error.js';
import type { FormParser, Trigger, TriggerContext } from './trigger.js';
import { nextOnWallClock, wallClock } from './wall-clock.js';

const DAY = 86_400_000;

interface ParsedRule {
  parts: RuleParts;
  canonical: string;
  /** Set when the rule was found to have no occurrence from any start (see startFree). */
  hopeless?: string;
}

/** Keyed by zone and text: a floating UNTIL is placed in the zone. */
const parsed = new BoundedCache<string, ParsedRule>(PARSED_KEPT);

/**
 * Whether the days a rule picks do not depend on its start: every period is visited (INTERVAL=1),
 * the days are named (or, daily and finer, all days are candidates), and no BYSETPOS counts within
 * periods that begin at the start. Its occurrences then repeat with the 400-year calendar, so none
 * in the 400 years looked at means none from any start.
 */
function startFree(p: RuleParts): boolean {
  const namesDays = p.byweekno || p.byyearday || p.bymonthday || p.byday;
  return p.interval === 1 && p.bysetpos === undefined && (p.freq >= DAILY || namesDays !== undefined);
}

function rruleTrigger(text: string, rule: ParsedRule, ctx: TriggerContext): Trigger {
  const clock = wallClock(ctx.tz);
  const dtstart = Math.ceil(clock.wallOf(ctx.start) / 1000) * 1000;
  const parts = explicitParts(rule.parts, dtstart);
  const never = neverRuns(parts, dtstart);
  if (never !== undefined) throw new RuleError(text, `"${text}" never runs from its start: ${never}`);
  const endless: Floating = { parts, options: rruleOptions(parts), dtstart };
  // The first wall time, found once here (COUNT and UNTIL cannot make it earlier), answers the next()
  // that usually follows creation, and a rule without one is refused.
  const first = nextFloating(endless, dtstart - 1);
  if (first === undefined) {
    const message = `"${text}" has no occurrence within 400 years of its start`;
    // Finding that can take a second; when no other start could do better, say so at once next time.
    if (startFree(rule.parts)) rule.hopeless = message;
    throw new RuleError(text, message);
  }
  const { until } = rule.parts;
  // DTSTART is the creation second, already past when the first run is asked for, and RFC 5545 counts
  // it as the first occurrence when the rule picks it: COUNT=3 would give two runs. COUNT counts the
  // runs after creation instead, the ones a user sees.
  const count = rule.parts.count === undefined ? undefined : rule.parts.count + (first === dtstart ? 1 : 0);
  const bounded: Floating = { ...endless, count, untilWall: until === undefined ? undefined : until + DAY };
  const nextWall = (cursor: number) => (cursor < first ? first : nextFloating(bounded, cursor));
  return {
    form: 'rrule',
    canonical: rule.canonical,
    next(after: number): number | undefined {
      if (until !== undefined && after >= until) return undefined;
      const at = nextOnWallClock(clock, after, nextWall);
      return at === undefined || (until !== undefined && at > until) ? undefined : at;
    },
  };
}

/** Parses an RRULE (`FREQ=…`, with or without `RRULE:`); other text is not this form. */
export const parseRrule: FormParser = (text: string, ctx: TriggerContext) => {
  if (!looksLikeRrule(text)) return undefined;
  const key = `${ctx.tz}\n${text}`;
  let rule = parsed.get(key);
  if (rule === undefined) {
    const parts = parseRuleParts(text, ctx.tz);
    rule = { parts, canonical: canonicalRrule(parts) };
    parsed.set(key, rule);
  }
  if (rule.hopeless !== undefined) throw new RuleError(text, rule.hopeless);
  return rruleTrigger(text, rule, ctx);
};
