/**
 * What a caller asks for when it makes a subject schedule (CLI, API, `ctx.schedules`, bulk import),
 * checked into a definition or refused with the reason: the kind and the subject its scope needs,
 * the trigger (parsed, never guessed), the zone, until and count, and an item's data as any job of
 * the kind would be checked.
 */
import { DateTime } from 'luxon';
import { z } from 'zod';
import type { Config } from '../../config/config.js';
import { jobData } from '../../jobs/add-job.js';
import { InvalidJobError } from '../../jobs/errors.js';
import { checkZone, parseTrigger, RuleError, type Trigger } from '../triggers/index.js';
import type { ScheduleDef } from './codec.js';

/** A schedule asked for; `user` or `item` names the subject, as the kind's scope needs. */
export const scheduleInput = z.strictObject({
  kind: z.string().min(1, 'a kind name').max(40),
  user: z.string().optional(),
  item: z.string().optional(),
  data: z.unknown().optional(),
  rule: z.string().trim().min(1, 'a trigger, e.g. "every day at 08:00"').max(500, 'at most 500 characters'),
  tz: z.string().min(1).max(64).optional(),
  name: z
    .string()
    .regex(/^[A-Za-z0-9._@-]{1,40}$/, 'letters, digits and . _ @ - only, 1 to 40 of them')
    .optional(),
  until: z.union([z.string(), z.number()]).optional(),
  count: z.number().int().min(1).max(1_000_000).optional(),
});
export type ScheduleInput = z.infer<typeof scheduleInput>;

/** A schedule refused: the message says what was wrong. */
export class ScheduleInputError extends Error {
  override name = 'ScheduleInputError';
}

export interface Checked {
  def: ScheduleDef;
  trigger: Trigger;
  /** First run (ms). */
  first: number;
}

/** The latest instant a JavaScript Date holds. */
const MAX_INSTANT = 8.64e15;
/** An item schedule's data is kept in its definition: small, so definitions stay dense. */
export const MAX_SCHEDULE_DATA_BYTES = 1024;

/** An instant: epoch ms, or ISO 8601 (a wall time without offset is read in the schedule's zone, a date alone to its end). */
function instant(v: string | number, what: string, tz: string): number {
  // Ten digits or more alone are epoch milliseconds, as a JSON number is (a command line has only
  // strings; shorter ones are ISO years and basic dates); a date alone is through the end of that
  // day, as an RRULE's UNTIL given as a date.
  let ms: number;
  if (typeof v === 'number' || /^\d{10,}$/.test(v)) ms = Number(v);
  else if (/^\d{4}-\d\d-\d\d$/.test(v)) ms = DateTime.fromISO(v, { zone: tz }).endOf('day').toMillis();
  else ms = DateTime.fromISO(v, { zone: tz, setZone: true }).toMillis();
  if (!Number.isFinite(ms) || ms < 0 || ms > MAX_INSTANT) {
    throw new ScheduleInputError(
      `${what} ${JSON.stringify(v)} is not an ISO 8601 time (or epoch milliseconds) within the years 1970 to 275759`,
    );
  }
  return ms;
}

function subjectOf(config: Config, raw: ScheduleInput): { def: Pick<ScheduleDef, 'kind' | 'scope' | 'subject' | 'data'> } {
  const kind = config.kinds[raw.kind];
  if (!kind) throw new ScheduleInputError(`unknown kind "${raw.kind}" (known: ${Object.keys(config.kinds).join(', ')})`);
  if (kind.scope === 'global') throw new ScheduleInputError(`${kind.name} is a global kind: subject schedules belong to a user or an item`);
  const want = kind.scope === 'user' ? 'user' : 'item';
  const other = want === 'user' ? 'item' : 'user';
  if (raw[other] !== undefined || raw[want] === undefined) {
    throw new ScheduleInputError(
      `${kind.name} is a ${kind.scope} kind: give its ${want} (${want === 'user' ? '--user' : '--item'}), not an ${other}`,
    );
  }
  if (want === 'user' && raw.data !== undefined) throw new ScheduleInputError(`${kind.name} is a user kind: its jobs take no data`);
  const subject = want === 'user' ? { userId: raw.user as string } : { id: raw.item as string, data: raw.data };
  try {
    const d = jobData(kind, subject, { scheduledFor: 0 });
    const data = 'data' in d && d.data !== null ? JSON.stringify(d.data) : undefined;
    if (data !== undefined && Buffer.byteLength(data) > MAX_SCHEDULE_DATA_BYTES) {
      throw new ScheduleInputError(
        `data of item ${raw.item} is ${Buffer.byteLength(data)} bytes as JSON; a schedule keeps at most ${MAX_SCHEDULE_DATA_BYTES}`,
      );
    }
    return { def: { kind: kind.name, scope: want, subject: raw[want] as string, ...(data ? { data } : {}) } };
  } catch (err) {
    if (err instanceof InvalidJobError) throw new ScheduleInputError(err.message.replace(/^cannot add a \S+ job: /, ''));
    throw err;
  }
}

/** The definition, trigger and first run of a schedule asked for at `now`, or a ScheduleInputError. */
export function checkInput(config: Config, input: unknown, now: number): Checked {
  const parsed = scheduleInput.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ScheduleInputError(`${issue?.path.join('.') || 'schedule'}: ${issue?.message}`);
  }
  const raw = parsed.data;
  const { def: who } = subjectOf(config, raw);
  const start = Math.floor(now / 1000) * 1000;
  let trigger: Trigger;
  let tz: string;
  try {
    tz = checkZone(raw.tz ?? config.tz);
    trigger = parseTrigger(raw.rule, { tz, start });
  } catch (err) {
    if (err instanceof RuleError) throw new ScheduleInputError(err.message);
    throw err;
  }
  const until = raw.until === undefined ? undefined : instant(raw.until, 'until', tz);
  const def: ScheduleDef = {
    ...who,
    name: raw.name ?? '',
    rule: trigger.canonical,
    tz,
    start,
    state: 'active',
    ...(raw.count !== undefined ? { countLeft: raw.count } : {}),
    ...(until !== undefined ? { until } : {}),
  };
  const first = trigger.next(now);
  if (first === undefined) throw new ScheduleInputError(`trigger "${trigger.canonical}" has no run after ${new Date(now).toISOString()}`);
  if (until !== undefined && first > until) {
    throw new ScheduleInputError(`until ${new Date(until).toISOString()} comes before the first run (${new Date(first).toISOString()})`);
  }
  return { def, trigger, first };
}
