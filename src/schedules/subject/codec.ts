/**
 * A subject schedule's definition as Redis keeps it: one short string of `|`-separated fields, so a
 * bucket of 128 of them stays in Redis' dense hash encoding (values of at most 64 bytes). A trigger
 * and zone that many schedules share are kept once, under a digest (scheduleRulesKey); a one-off run
 * is stored as its instant. Kind names, subject ids, schedule names and zones hold no `|`; item data
 * (JSON, which may) is the last field.
 *
 * kind | u or i | subject | name | @<ms36> or #<digest> | start (s, base 36) | state[count left] | until (ms36) | data
 */
import { createHash } from 'node:crypto';

export type ScheduleState = 'active' | 'paused' | 'ended';

export interface ScheduleDef {
  kind: string;
  scope: 'user' | 'item';
  subject: string;
  name: string;
  /** The trigger's canonical text. */
  rule: string;
  tz: string;
  /** When the schedule was made (ms, whole seconds): the anchor of durations and RRULEs. */
  start: number;
  state: ScheduleState;
  /** Runs left when the schedule was made with a count. */
  countLeft?: number;
  /** No run after this instant (ms). */
  until?: number;
  /** An item schedule's data, as JSON text. */
  data?: string;
}

/** A trigger and zone to keep once, under its digest. */
export interface SharedRule {
  digest: string;
  text: string;
}

const STATE_CODE: Record<ScheduleState, string> = { active: 'a', paused: 'p', ended: 'e' };
const CODE_STATE: Record<string, ScheduleState> = { a: 'active', p: 'paused', e: 'ended' };
const ONCE = /^at (\d{4}-\d\d-\d\dT[\d:.]+Z)$/;

const digests = new Map<string, string>();

/** 60 bits of SHA-1: a clash among millions of distinct triggers is about one in a million. */
function digestOf(text: string): string {
  let d = digests.get(text);
  if (d === undefined) {
    d = createHash('sha1').update(text).digest('base64url').slice(0, 10);
    // A few texts serve most schedules; the map is emptied rather than grown past a bound.
    if (digests.size >= 10_000) digests.clear();
    digests.set(text, d);
  }
  return d;
}

export function encodeDef(d: ScheduleDef): { text: string; shared?: SharedRule } {
  const once = ONCE.exec(d.rule);
  let ref: string;
  let shared: SharedRule | undefined;
  if (once) ref = `@${Date.parse(once[1] as string).toString(36)}`;
  else {
    const text = `${d.rule}|${d.tz}`;
    shared = { digest: digestOf(text), text };
    ref = `#${shared.digest}`;
  }
  const fields = [
    d.kind,
    d.scope === 'user' ? 'u' : 'i',
    d.subject,
    d.name,
    ref,
    Math.floor(d.start / 1000).toString(36),
    `${STATE_CODE[d.state]}${d.countLeft ?? ''}`,
    d.until === undefined ? '' : d.until.toString(36),
    d.data ?? '',
  ];
  return { text: fields.join('|'), ...(shared ? { shared } : {}) };
}

/** The definition back; `sharedText` is what the digest in it stands for. Undefined when it doesn't parse. */
export function decodeDef(text: string, sharedText: string | undefined): ScheduleDef | undefined {
  const parts = text.split('|');
  if (parts.length < 9) return undefined;
  const [kind, scope, subject, name, ref, start, state, until] = parts as [string, string, string, string, string, string, string, string];
  let rule: string;
  let tz = 'UTC';
  if (ref.startsWith('@')) rule = `at ${new Date(Number.parseInt(ref.slice(1), 36)).toISOString().replace('.000Z', 'Z')}`;
  else {
    if (sharedText === undefined) return undefined;
    const cut = sharedText.lastIndexOf('|');
    rule = sharedText.slice(0, cut);
    tz = sharedText.slice(cut + 1);
  }
  const st = CODE_STATE[state.charAt(0)];
  if (!st) return undefined;
  const left = state.slice(1);
  const data = parts.slice(8).join('|');
  return {
    kind,
    scope: scope === 'u' ? 'user' : 'item',
    subject,
    name,
    rule,
    tz,
    start: Number.parseInt(start, 36) * 1000,
    state: st,
    ...(left ? { countLeft: Number(left) } : {}),
    ...(until ? { until: Number.parseInt(until, 36) } : {}),
    ...(data ? { data } : {}),
  };
}

/**
 * Which definition a run was made from: every field but the state (runs left and ended change as it
 * runs). The same as `version` in sched-prelude.lua, which checks it when the run starts.
 */
export function versionOf(text: string): string {
  const parts = text.split('|');
  parts.splice(6, 1);
  return createHash('sha1').update(parts.join('|')).digest('hex').slice(0, 10);
}

/** The digest a definition refers to, if it shares its trigger. */
export function sharedRef(text: string): string | undefined {
  const ref = text.split('|', 5)[4];
  return ref?.startsWith('#') ? ref.slice(1) : undefined;
}

/** A schedule id's bucket: 128 ids a bucket (see sched-prelude.lua). */
export function bucketOf(id: string): string {
  return String(Math.floor(Number.parseInt(id, 36) / 128));
}

/**
 * Shards of the subject index: at a million subjects about 61 a shard, within Redis' dense encoding
 * (128 fields); past about two million subjects shards turn into plain hashes, which costs memory, not
 * correctness.
 */
export const SUBJECT_SHARDS = 16_384;

/** The index shard of a subject: every kind's schedules of one subject share a shard. */
export function subjectShard(subject: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < subject.length; i++) h = Math.imul(h ^ subject.charCodeAt(i), 0x01000193);
  return ((h >>> 0) % SUBJECT_SHARDS).toString(16);
}

/** The subject index's field for a kind's subject. */
export function subjectField(kind: string, scope: 'user' | 'item', subject: string): string {
  return `${kind}:${scope === 'user' ? 'u' : 'i'}:${subject}`;
}

/** Schedule ids are base-36 numbers. */
export const SCHEDULE_ID = /^[0-9a-z]{1,12}$/;
