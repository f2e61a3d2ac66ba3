/**
 * `cron`: 5 fields (minute hour day-of-month month day-of-week) or 6 (seconds first), with or without
 * a `cron ` prefix, as cron-parser reads them (names such as MON or JAN, L and # included; when both
 * day fields are restricted a day matching either runs, as in classic cron). Evaluated on the zone's
 * wall clock: the next run is found on floating wall time (by cron-plan.ts, or cron-parser in UTC for
 * L and #) and wall-clock.ts places it in the zone, so cron follows the same daylight-saving rule as
 * RRULE. Canonical: `cron <fields>` as cron-parser writes them back (names become numbers; a seconds
 * field of 0 is left out).
 */
import { type CronExpression, CronExpressionParser } from 'cron-parser';
import { BoundedCache, PARSED_KEPT } from './bounded-cache.js';
import { CronPlan, isPlain } from './cron-plan.js';
import { RuleError } from './rule-error.js';
import type { FormParser, Trigger, TriggerContext } from './trigger.js';
import { nextOnWallClock, wallClock } from './wall-clock.js';

const NAME = '(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec|sun|mon|tue|wed|thu|fri|sat)';
/** A token that can only be a cron field: digits, names and cron's punctuation. */
const FIELD = new RegExp(`^(?:\\d+|${NAME}|[*?,/#LH-])+$`, 'i');
const FIELD_NAMES = ['second', 'minute', 'hour', 'day of month', 'month', 'day of week'];
/** The floating instant a cron's first run is looked for from, to refuse one that never runs. */
const PROBE_FROM = Date.UTC(2000, 0, 1);

interface ParsedCron {
  canonical: string;
  /** One expression per text, reset before each use: evaluation is synchronous, so sharing is safe. */
  expression: CronExpression;
  /** The fast search, for a cron without L or #. */
  plan?: CronPlan;
  /**
   * The last answer: every wall time in [from, to) has `to` as its next. Subjects sharing a cron ask
   * about the same few wall times (made in the same minute, run at the same occurrence), and a cron's
   * floating wall times do not depend on the zone, so one answer serves them all.
   */
  last?: { from: number; to: number };
}

const parsed = new BoundedCache<string, ParsedCron>(PARSED_KEPT);

/** The fields of `text` when it is a cron (prefixed, or 5–6 tokens that can only be fields). */
function fieldsOf(text: string): string[] | undefined {
  if (/^cron(?: |$)/i.test(text)) return text.slice(5).trim().split(' ');
  if (/^@[a-z]+$/i.test(text)) return [text];
  const fields = text.split(' ');
  if (fields.length < 5 || fields.length > 6) return undefined;
  return fields.every((f) => FIELD.test(f)) ? fields : undefined;
}

/** Which field cron-parser refused, tried alone among stars; the whole message when none is. */
function explain(rule: string, fields: string[], err: Error): RuleError {
  if (fields.length === 1) return new RuleError(rule, `unknown cron shorthand "${fields[0]}" in "${rule}": ${err.message}`);
  const full = fields.length === 5 ? ['0', ...fields] : fields;
  for (let i = 0; i < full.length; i++) {
    const alone = ['0', '*', '*', '*', '*', '*'];
    alone[i] = full[i] as string;
    try {
      CronExpressionParser.parse(alone.join(' '), { tz: 'UTC' });
    } catch (fieldErr) {
      return new RuleError(rule, `bad cron field ${FIELD_NAMES[i]} "${full[i]}" in "${rule}": ${(fieldErr as Error).message}`);
    }
  }
  return new RuleError(rule, `cron "${fields.join(' ')}" in "${rule}" never runs (${err.message})`);
}

function parseCronFields(rule: string, fields: string[]): ParsedCron {
  if (fields.length === 1 && !fields[0]?.startsWith('@')) throw new RuleError(rule, `"${rule}" has no cron fields`);
  if (fields.length !== 1 && (fields.length < 5 || fields.length > 6)) {
    throw new RuleError(
      rule,
      `"${rule}" has ${fields.length} cron fields; a cron has 5 (minute hour day month weekday) or 6 (seconds first)`,
    );
  }
  const hashed = fields.find((f) => /h/i.test(f.replace(new RegExp(NAME, 'gi'), '')));
  if (hashed !== undefined)
    throw new RuleError(rule, `cron field "${hashed}" in "${rule}": H (hashed) values are not taken, they differ per seed`);
  let expression: CronExpression;
  try {
    expression = CronExpressionParser.parse(fields.join(' '), { tz: 'UTC', currentDate: PROBE_FROM });
  } catch (err) {
    throw explain(rule, fields, err as Error);
  }
  const plan = isPlain(expression.fields) ? new CronPlan(expression.fields) : undefined;
  const never = `cron "${fields.join(' ')}" in "${rule}" never runs`;
  if (plan !== undefined && plan.next(PROBE_FROM) === undefined) throw new RuleError(rule, never);
  if (plan === undefined) {
    try {
      expression.next();
    } catch (err) {
      throw new RuleError(rule, `${never} (${(err as Error).message})`);
    }
  }
  const seconds = expression.fields.second.values;
  const withSeconds = seconds.length !== 1 || seconds[0] !== 0;
  return { canonical: `cron ${expression.stringify(withSeconds)}`, expression, plan };
}

/** cron-parser's next run strictly after `wall`; undefined when it gives up. */
function parserNext(expression: CronExpression, wall: number): number | undefined {
  expression.reset(new Date(wall));
  try {
    return expression.next().getTime();
  } catch {
    // cron-parser looks at most 10,000 steps ahead; a cron that far from its next run has none left.
    return undefined;
  }
}

/** The first floating wall time of a cron strictly after `wall`, or undefined. */
function nextWall(cron: ParsedCron, wall: number): number | undefined {
  const last = cron.last;
  if (last !== undefined && wall >= last.from && wall < last.to) return last.to;
  const next = cron.plan !== undefined ? cron.plan.next(wall) : parserNext(cron.expression, wall);
  if (next === undefined) return undefined;
  cron.last = last !== undefined && last.to === next ? { from: Math.min(wall, last.from), to: next } : { from: wall, to: next };
  return next;
}

/** Parses a cron expression; text that is not fields (English) is not this form. */
export const parseCron: FormParser = (text: string, ctx: TriggerContext): Trigger | undefined => {
  const fields = fieldsOf(text);
  if (fields === undefined) return undefined;
  const key = fields.join(' ');
  let cron = parsed.get(key);
  if (cron === undefined) {
    cron = parseCronFields(text, fields);
    parsed.set(key, cron);
  }
  const found = cron;
  const clock = wallClock(ctx.tz);
  return {
    form: 'cron',
    canonical: found.canonical,
    next: (after) => nextOnWallClock(clock, after, (wall) => nextWall(found, wall)),
  };
};
