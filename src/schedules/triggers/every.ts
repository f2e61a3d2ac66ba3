/**
 * `every`: a Go duration (`30s`, `1h30m`, also `every 30s`), run at start + k·d for k ≥ 1, counted
 * from the context's start (the subject's creation), not from the clock: durations are absolute, so
 * daylight saving does not move them. Canonical: `every <shortest Go spelling>`, e.g. `every 1h30m`.
 */
import { formatDuration, parseDuration } from '../../config/duration.js';
import { RuleError } from './rule-error.js';
import type { FormParser, Trigger, TriggerContext } from './trigger.js';

/** The shortest and longest durations taken: one second, and ten years of hours. */
export const MIN_EVERY_MS = 1000;
export const MAX_EVERY_MS = 87_600 * 3_600_000;

const PREFIX = /^(?:every )?(\S+)$/i;

/** A trigger that runs every `ms` from `start`. */
export function everyFrom(rule: string, ms: number, start: number): Trigger {
  if (ms < MIN_EVERY_MS) throw new RuleError(rule, `"${rule}" is shorter than the shortest interval, 1s`);
  if (ms > MAX_EVERY_MS) throw new RuleError(rule, `"${rule}" is longer than the longest interval, 87600h (ten years)`);
  return {
    form: 'every',
    canonical: `every ${formatDuration(ms)}`,
    next(after: number): number {
      const k = after < start ? 1 : Math.floor((after - start) / ms) + 1;
      return start + k * ms;
    },
  };
}

/** Parses a Go duration, with or without `every `; other text (`every 2 hours`) is not this form. */
export const parseEvery: FormParser = (text: string, ctx: TriggerContext) => {
  const m = PREFIX.exec(text);
  const ms = m === null ? undefined : parseDuration(m[1] as string);
  if (ms === undefined) return undefined;
  return everyFrom(text, ms, ctx.start);
};
