/**
 * Reading a trigger's text. Each form is asked in turn whether the text is written in it; English
 * text comes last and refuses what it cannot read, so nothing is guessed. Adding a form is one file
 * and one line in FORMS.
 */
import { IANAZone } from 'luxon';
import { BoundedCache, PARSED_KEPT } from './bounded-cache.js';
import { parseCron } from './cron.js';
import { parseEvery } from './every.js';
import { parseOnce } from './once.js';
import { parseRrule } from './rrule.js';
import { RuleError } from './rule-error.js';
import { parseText } from './text.js';
import type { FormParser, Trigger, TriggerContext } from './trigger.js';

/** The longest text taken. */
export const MAX_RULE_LENGTH = 500;

/** In the order asked: `at …`, durations, RRULE parts, cron fields, then English. */
const FORMS: readonly FormParser[] = [parseOnce, parseEvery, parseRrule, parseCron, parseText];

const checkedZones = new Set<string>();

/** Returns `tz` when it is an IANA time zone this platform knows; throws RuleError otherwise. */
export function checkZone(tz: string): string {
  if (checkedZones.has(tz)) return tz;
  if (!IANAZone.isValidZone(tz)) {
    throw new RuleError(tz, `unknown time zone "${tz}": expected an IANA zone such as UTC or Europe/Berlin`);
  }
  // Bounded by the zones that exist: only valid names are kept.
  checkedZones.add(tz);
  return tz;
}

/** Cron and one-off triggers do not depend on `start`: one object serves every subject with the text and zone. */
const sameForAll = new BoundedCache<string, Trigger>(PARSED_KEPT);
/** Durations and RRULEs do, but schedules made in the same second (a bulk import) share their start. */
const sameStart = new BoundedCache<string, Trigger>(PARSED_KEPT);

/**
 * The trigger, remembering its last answer: next(a) is the same for every `a` from the `after` it was
 * asked for up to (not including) the occurrence it gave, so a million schedules added with one text
 * in the same second cost one computation, not a million.
 */
function remembering(t: Trigger): Trigger {
  let from = Number.POSITIVE_INFINITY;
  let to: number | undefined;
  return {
    form: t.form,
    canonical: t.canonical,
    next(after: number): number | undefined {
      if (to !== undefined && after >= from && after < to) return to;
      const n = t.next(after);
      from = after;
      to = n;
      return n;
    },
  };
}

/** Parses a trigger's text (any form, see FORMS) for a subject with context `ctx`. Throws RuleError. */
export function parseTrigger(text: string, ctx: TriggerContext): Trigger {
  checkZone(ctx.tz);
  if (!Number.isFinite(ctx.start)) throw new RangeError(`trigger start ${ctx.start} is not an epoch-ms instant`);
  const rule = text.trim().replace(/\s+/g, ' ');
  if (rule === '')
    throw new RuleError(text, 'empty rule: expected a time, duration, cron, RRULE or English text such as "every day at 9:00"');
  if (rule.length > MAX_RULE_LENGTH) throw new RuleError(text, `rule of ${rule.length} characters, longer than ${MAX_RULE_LENGTH}`);
  const key = `${rule}\0${ctx.tz}`;
  const keyAt = `${key}\0${ctx.start}`;
  const hit = sameForAll.get(key) ?? sameStart.get(keyAt);
  if (hit) return hit;
  for (const parse of FORMS) {
    const trigger = parse(rule, ctx);
    if (trigger === undefined) continue;
    const m = remembering(trigger);
    if (trigger.form === 'cron' || trigger.form === 'once') sameForAll.set(key, m);
    else sameStart.set(keyAt, m);
    return m;
  }
  // parseText, the last form, never passes.
  throw new RuleError(text, `did not understand "${text}"`);
}
