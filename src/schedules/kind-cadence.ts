/**
 * A kind's schedule as it runs. A duration or a cron, written as such or as English text that
 * becomes one ("every 2 hours", "every day at 08:00"), is run by BullMQ exactly as before (`every`,
 * `pattern`). An RRULE, written or from text ("every other tuesday at 9:34am"), and a module's own
 * `schedule.next` run through the repeat strategy (repeat-strategy.ts), under a pattern BullMQ keeps
 * but does not read: the canonical RRULE (`FREQ=…`) or `fn:<kind>`.
 *
 * The configuration cannot read rules (it sits below the triggers), so they are read here, once per
 * process; a producer does so at start and stops with a ConfigError naming the variable or field.
 */
import { DateTime } from 'luxon';
import { formatDuration, parseDuration } from '../config/duration.js';
import { ConfigError } from '../config/errors.js';
import type { ScheduleConfig } from '../config/kind-config.js';
import { callNext } from './schedule-function.js';
import { BoundedCache, PARSED_KEPT } from './triggers/bounded-cache.js';
import { parseTrigger, RuleError, type Trigger } from './triggers/index.js';

/** The first run strictly after `after` (epoch ms), or undefined when none is left. */
export type NextRun = (after: number) => number | undefined;

export type Cadence =
  | { form: 'every'; every: number }
  | { form: 'cron'; pattern: string }
  | { form: 'rrule'; pattern: string; next: NextRun }
  | { form: 'function'; next: NextRun };

/** The pattern of a kind whose module computes its runs: `fn:<kind>`. */
export const FUNCTION_PATTERN = 'fn:';

/** A scheduler's pattern is an RRULE (a canonical one starts with FREQ; a cron has no `=`). */
export const isRrulePattern = (pattern: string): boolean => pattern.startsWith('FREQ=');

/**
 * The DTSTART of every kind's RRULE: Monday 2000-01-03 00:00 on the zone's wall clock. Fixed, not the
 * boot time, so `INTERVAL=2` weeks (days, months) keeps its phase across restarts and producers, and
 * a rule that names no time of day runs at midnight.
 */
export function ruleAnchor(tz: string): number {
  return DateTime.fromObject({ year: 2000, month: 1, day: 3 }, { zone: tz }).toMillis();
}

const rules = new BoundedCache<string, Trigger>(PARSED_KEPT);

/** A kind's rule text (an RRULE, canonical or not, or English) in `tz`, from the fixed anchor. Throws RuleError. */
export function kindRule(text: string, tz: string): Trigger {
  const key = `${tz}\n${text}`;
  let t = rules.get(key);
  if (!t) {
    t = parseTrigger(text, { tz, start: ruleAnchor(tz) });
    rules.set(key, t);
  }
  return t;
}

const refusal = (s: ScheduleConfig, why: string) =>
  new ConfigError(s.variable, s.intervalText, `a Go duration, cron, RRULE or English schedule (${why})`);

/** What a rule's trigger becomes: a duration or a cron as BullMQ runs them, or an RRULE it runs through the strategy. */
function fromRule(s: ScheduleConfig, rule: string, tz: string, now: number): Cadence {
  let t: Trigger;
  try {
    t = kindRule(rule, tz);
  } catch (err) {
    if (err instanceof RuleError) throw refusal(s, err.message);
    throw err;
  }
  if (t.form === 'every') {
    const every = parseDuration(t.canonical.slice('every '.length)) as number;
    if (s.offsetMs >= every) throw refusal(s, `an interval longer than the offset, ${formatDuration(s.offsetMs)}`);
    return { form: 'every', every };
  }
  if (t.form === 'cron') return { form: 'cron', pattern: t.canonical.slice('cron '.length) };
  if (t.form === 'once') throw refusal(s, `one that repeats: "${rule}" runs once; run a kind once with "spotter-jobs trigger --at"`);
  if (/(^|;)COUNT=/.test(t.canonical)) throw refusal(s, 'no COUNT: a kind counts its RRULE from 2000-01-03, so end it with UNTIL');
  if (t.next(now) === undefined) throw refusal(s, `one with runs to come: "${rule}" has none after ${new Date(now).toISOString()}`);
  return { form: 'rrule', pattern: t.canonical, next: (after) => t.next(after) };
}

function resolve(s: ScheduleConfig, tz: string, now: number): Cadence {
  const i = s.interval;
  if (i.every !== undefined) return { form: 'every', every: i.every };
  if (i.pattern !== undefined) return { form: 'cron', pattern: i.pattern };
  if (i.rule !== undefined) return fromRule(s, i.rule, tz, now);
  const fn = i.next;
  // A catalog recorded in Redis holds no function: its interval comes back empty.
  if (typeof fn !== 'function') throw new ConfigError(s.variable, s.intervalText, 'a schedule this process can read');
  const first = callNext(fn, now);
  if ('none' in first)
    throw new ConfigError(s.variable, s.intervalText, `a schedule.next(after) that gives a run after now (it ${first.none})`);
  return {
    form: 'function',
    next: (after) => {
      const a = callNext(fn, after);
      return 'at' in a ? a.at : undefined;
    },
  };
}

const resolved = new WeakMap<ScheduleConfig, { tz: string; cadence: Cadence }>();

/**
 * How `s` runs in `tz`, read once per schedule and zone. Throws a ConfigError naming the variable
 * for a rule the triggers refuse, a rule that does not repeat or has no run after `now`, or a
 * schedule function that gives no run after `now`.
 */
export function cadenceOf(s: ScheduleConfig, tz: string, now = Date.now()): Cadence {
  const known = resolved.get(s);
  if (known?.tz === tz) return known.cadence;
  const cadence = resolve(s, tz, now);
  resolved.set(s, { tz, cadence });
  return cadence;
}

/** The BullMQ pattern of a schedule that is no duration. */
export function patternOf(kind: string, c: Exclude<Cadence, { form: 'every' }>): string {
  return c.form === 'function' ? `${FUNCTION_PATTERN}${kind}` : c.pattern;
}

/**
 * The schedule in an operator's words: as written, and for a rule or a function what it runs as
 * ("every other tuesday at 9:34am (FREQ=WEEKLY;…)", "every day at 08:00 (0 8 * * *)").
 */
export function scheduleLabel(kind: string, s: ScheduleConfig, tz: string): string {
  if (s.interval.every !== undefined || s.interval.pattern !== undefined) return s.intervalText;
  let c: Cadence;
  try {
    c = cadenceOf(s, tz);
  } catch {
    return s.intervalText;
  }
  const runs = c.form === 'every' ? formatDuration(c.every) : patternOf(kind, c);
  return runs === s.intervalText ? runs : `${s.intervalText} (${runs})`;
}
