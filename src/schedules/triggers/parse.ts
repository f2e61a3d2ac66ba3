/**
 * Reading a trigger's text. Each form is asked in turn whether the text is written in it; English
 * text comes last and refuses what it cannot read, so nothing is guessed. Adding a form is one file
 * and one line in FORMS.
 */
import { IANAZone } from 'luxon';
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

/** Parses a trigger's text (any form, see FORMS) for a subject with context `ctx`. Throws RuleError. */
export function parseTrigger(text: string, ctx: TriggerContext): Trigger {
  checkZone(ctx.tz);
  if (!Number.isFinite(ctx.start)) throw new RangeError(`trigger start ${ctx.start} is not an epoch-ms instant`);
  const rule = text.trim().replace(/\s+/g, ' ');
  if (rule === '')
    throw new RuleError(text, 'empty rule: expected a time, duration, cron, RRULE or English text such as "every day at 9:00"');
  if (rule.length > MAX_RULE_LENGTH) throw new RuleError(text, `rule of ${rule.length} characters, longer than ${MAX_RULE_LENGTH}`);
  for (const parse of FORMS) {
    const trigger = parse(rule, ctx);
    if (trigger !== undefined) return trigger;
  }
  // parseText, the last form, never passes.
  throw new RuleError(text, `did not understand "${text}"`);
}
