/**
 * Subject schedules in Redis: create or replace (one at a time or in pages), read, list, pause,
 * resume and remove. The layout (docs/redis-layout.md) keeps a schedule in a few dozen bytes: a
 * field of a bucket's dense hash, a member of a bucket's dense sorted set and a field of a subject
 * shard; no BullMQ job exists for it until the materialiser (src/producers) adds its next run.
 */
import type { Config } from '../../config/config.js';
import type { ScheduleSummary } from '../../handlers/types.js';
import { scripted } from '../../redis/commands.js';
import type { RedisClient } from '../../redis/connection.js';
import { denseValueLimit } from '../../redis/dense-limit.js';
import {
  scheduleBaseKey,
  scheduleBigKey,
  scheduleCountsKey,
  scheduleDefKey,
  scheduleDueKey,
  scheduleRulesKey,
  scheduleSeqKey,
  scheduleSubjectKey,
} from '../../redis/keys.js';
import { adoptionKeys } from './adopt.js';
import { bucketOf, decodeDef, encodeDef, SCHEDULE_ID, type ScheduleDef, sharedRef, subjectField, subjectShard } from './codec.js';
import { type Checked, checkInput, ScheduleInputError } from './input.js';
import { nextRuns } from './occurrence.js';
import { nextUntaken, takenRuns } from './taken-runs.js';

/** A schedule as the CLI, the API and handlers see it: what a handler sees, and more. */
export interface ScheduleView extends ScheduleSummary {
  countLeft?: number;
  until?: string;
  created: string;
  data?: unknown;
}

/** Most schedules one bulk call takes (a CLI import sends a file in pages of this size). */
export const MAX_BULK = 1_000;
/** Most schedules `list` returns at once. */
export const MAX_PAGE = 1_000;
const BUCKETS_PER_LIST_CALL = 256;

export class SubjectSchedules {
  private readonly base: string;

  constructor(
    private readonly conn: RedisClient,
    private readonly config: Config,
    private readonly now: () => number = Date.now,
  ) {
    this.base = scheduleBaseKey(config.prefix);
  }

  /** Creates or replaces one schedule (same kind, subject and name); returns it with its next runs. */
  async add(input: unknown): Promise<ScheduleView & { runs: string[] }> {
    const [r] = await this.addMany([input], { runs: 3 });
    if (!r || 'error' in r) throw new ScheduleInputError(r?.error ?? 'not added');
    return r;
  }

  /**
   * Up to MAX_BULK schedules; each one added or refused on its own, in the order given, with its next
   * `opts.runs` runs (none by default: a bulk import has no use for them).
   */
  async addMany(
    inputs: readonly unknown[],
    opts: { runs?: number } = {},
  ): Promise<Array<(ScheduleView & { runs: string[] }) | { error: string }>> {
    if (inputs.length > MAX_BULK) throw new ScheduleInputError(`at most ${MAX_BULK} schedules a call, not ${inputs.length}`);
    const now = this.now();
    const checked: Array<Checked | { error: string }> = inputs.map((i) => {
      try {
        return checkInput(this.config, i, now);
      } catch (err) {
        if (err instanceof ScheduleInputError) return { error: err.message };
        throw err;
      }
    });
    const args: string[] = [];
    for (const c of checked) {
      if ('error' in c) continue;
      const { text, shared } = encodeDef(c.def);
      const field = subjectField(c.def.kind, c.def.scope, c.def.subject);
      args.push(
        subjectShard(c.def.subject),
        field,
        c.def.kind,
        c.def.name,
        text,
        String(c.first),
        shared ? `${shared.digest}|${shared.text}` : '',
        ...adoptionKeys(this.config, c.def.kind),
      );
    }
    const ids = args.length
      ? await scripted(this.conn).sjSchedUpsert(
          this.base,
          String(this.config.subjectSchedules.perSubject),
          String(await denseValueLimit(this.conn)),
          ...args,
        )
      : [];
    const kept = ids.filter((id) => id.startsWith('=')).map((id) => id.slice(1));
    // Only schedules left as they stood are read back: a bulk of new ones costs no second round trip.
    const found = kept.length > 0 ? await this.definitions(kept) : [];
    const stored = new Map(found.flatMap((r) => (r ? [[r.id, r] as const] : [])));
    let k = 0;
    return checked.map((c) => {
      if ('error' in c) return c;
      const id = ids[k++] as string;
      if (id === '!full') {
        return {
          error: `${c.def.scope} ${c.def.subject} holds ${this.config.subjectSchedules.perSubject} ${c.def.kind} schedules already (SPOTTER_JOBS_SCHEDULES_PER_SUBJECT)`,
        };
      }
      // Left as it stood: its own next run, runs left and state, not the ones asked for afresh.
      const same = id.startsWith('=') ? stored.get(id.slice(1)) : undefined;
      const def = same?.def ?? c.def;
      const next = same ? same.next : c.first;
      const runs = def.state === 'active' && next !== undefined && opts.runs ? nextRuns(def, c.trigger, next - 1, opts.runs) : [];
      return { ...viewOf(id.replace(/^=/, ''), def, next), runs: runs.map((t) => new Date(t).toISOString()) };
    });
  }

  /** One schedule, or undefined. */
  async get(id: string): Promise<ScheduleView | undefined> {
    return (await this.getMany([id]))[0] ?? undefined;
  }

  /** Definitions as stored, with their next runs; undefined for an id not found. */
  async definitions(
    ids: readonly string[],
  ): Promise<Array<{ id: string; text: string; def: ScheduleDef; next: number | undefined } | undefined>> {
    const ok = ids.map((id) => SCHEDULE_ID.test(id));
    const p = this.conn.pipeline();
    ids.forEach((id, i) => {
      if (!ok[i]) return;
      p.hget(scheduleDefKey(this.config.prefix, bucketOf(id)), id);
      p.hget(scheduleBigKey(this.config.prefix, bucketOf(id)), id);
      p.zscore(scheduleDueKey(this.config.prefix, bucketOf(id)), id);
    });
    const res = ((await p.exec()) ?? []).map(([err, v]) => {
      if (err) throw err;
      return v as string | null;
    });
    const texts: Array<[string, string, string | null] | undefined> = [];
    let j = 0;
    for (let i = 0; i < ids.length; i++) {
      if (!ok[i]) texts.push(undefined);
      else {
        const text = res[j] ?? res[j + 1];
        texts.push(text ? [ids[i] as string, text, res[j + 2] ?? null] : undefined);
        j += 3;
      }
    }
    const refs = [...new Set(texts.flatMap((t) => (t ? [sharedRef(t[1])] : [])).filter((r): r is string => r !== undefined))];
    const shared = new Map<string, string>();
    if (refs.length) {
      const vals = await this.conn.hmget(scheduleRulesKey(this.config.prefix), ...refs);
      refs.forEach((r, i) => {
        if (vals[i]) shared.set(r, vals[i] as string);
      });
    }
    return texts.map((t) => {
      if (!t) return undefined;
      const ref = sharedRef(t[1]);
      const def = decodeDef(t[1], ref ? shared.get(ref) : undefined);
      return def ? { id: t[0], text: t[1], def, next: t[2] === null ? undefined : Number(t[2]) } : undefined;
    });
  }

  async getMany(ids: readonly string[]): Promise<Array<ScheduleView | undefined>> {
    return (await this.definitions(ids)).map((r) => (r ? viewOf(r.id, r.def, r.next) : undefined));
  }

  /** The schedules of one subject (every kind, or one). */
  async ofSubject(scope: 'user' | 'item', subject: string, kind?: string): Promise<ScheduleView[]> {
    const kinds = kind ? [kind] : Object.keys(this.config.kinds);
    const fields = kinds.map((k) => subjectField(k, scope, subject));
    const lists = await this.conn.hmget(scheduleSubjectKey(this.config.prefix, subjectShard(subject)), ...fields);
    const ids = lists.flatMap((l) => (l ? l.split(',') : []));
    return (await this.getMany(ids)).filter((v): v is ScheduleView => v !== undefined);
  }

  /**
   * A page of every schedule (of one kind, if given), in id order from `cursor` (the position a
   * page returned). A call reads a bounded number of buckets, so a page may come back short, with a
   * cursor to go on from.
   */
  async list(opts: { kind?: string; limit?: number; cursor?: string } = {}): Promise<{ schedules: ScheduleView[]; cursor?: string }> {
    const limit = Math.min(Math.max(opts.limit ?? 100, 1), MAX_PAGE);
    const last = Number((await this.conn.get(scheduleSeqKey(this.config.prefix))) ?? 0);
    let from = Number(opts.cursor ?? 0);
    if (!Number.isInteger(from) || from < 0)
      throw new ScheduleInputError(`cursor ${JSON.stringify(opts.cursor)} is not one a list returned`);
    const out: ScheduleView[] = [];
    for (let read = 0; from <= last && read < BUCKETS_PER_LIST_CALL; read++) {
      const b = Math.floor(from / 128);
      const ids = [
        ...(await this.conn.hkeys(scheduleDefKey(this.config.prefix, String(b)))),
        ...(await this.conn.hkeys(scheduleBigKey(this.config.prefix, String(b)))),
      ]
        .map((id) => ({ id, n: Number.parseInt(id, 36) }))
        .filter((x) => x.n >= from)
        .sort((x, y) => x.n - y.n);
      const views = await this.getMany(ids.map((x) => x.id));
      for (const [i, v] of views.entries()) {
        if (!v || (opts.kind && v.kind !== opts.kind)) continue;
        out.push(v);
        if (out.length === limit) {
          from = (ids[i]?.n ?? from) + 1;
          return { schedules: out, ...(from <= last ? { cursor: String(from) } : {}) };
        }
      }
      from = (b + 1) * 128;
    }
    return { schedules: out, ...(from <= last ? { cursor: String(from) } : {}) };
  }

  /** Schedules per kind. */
  async counts(): Promise<Record<string, number>> {
    const all = await this.conn.hgetall(scheduleCountsKey(this.config.prefix));
    return Object.fromEntries(Object.entries(all).map(([k, v]) => [k, Number(v)]));
  }

  pause(id: string): Promise<ScheduleView | undefined> {
    return this.change(id, (def) => (def.state === 'active' ? { def: { ...def, state: 'paused' }, next: undefined } : undefined));
  }

  /** Resumes from now (runs missed while paused are not made up), after the runs whose jobs were made (taken-runs.ts). */
  async resume(id: string): Promise<ScheduleView | undefined> {
    const now = this.now();
    const [r] = await this.definitions([id]);
    const span = { now, horizon: now + this.config.subjectSchedules.windowMs };
    const taken = r ? await takenRuns(this.conn, this.config.prefix, id, r.def, span) : new Set<number>();
    return this.change(id, (def) => {
      if (def.state !== 'paused') return undefined;
      const next = nextUntaken(def, now, taken);
      return { def: { ...def, state: next === undefined ? 'ended' : 'active' }, next };
    });
  }

  /** Removes it; true when it was there. */
  async remove(id: string): Promise<boolean> {
    return (await this.change(id, () => 'remove')) !== undefined;
  }

  /**
   * Reads, changes and writes one definition, again if a run or an upsert changed it in between
   * (a few times at most). `f` returns the new definition and next run, undefined for no change.
   */
  private async change(
    id: string,
    f: (def: ScheduleDef) => { def: ScheduleDef; next: number | undefined } | 'remove' | undefined,
  ): Promise<ScheduleView | undefined> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const [r] = await this.definitions([id]);
      if (!r) return undefined;
      const to = f(r.def);
      if (to === undefined) return viewOf(id, r.def, r.next);
      const shard = subjectShard(r.def.subject);
      const field = subjectField(r.def.kind, r.def.scope, r.def.subject);
      const text = to === 'remove' ? '' : encodeDef(to.def).text;
      const next = to === 'remove' || to.next === undefined ? '' : String(to.next);
      const max = String(await denseValueLimit(this.conn));
      if (await scripted(this.conn).sjSchedSet(this.base, id, r.text, text, next, shard, field, max)) {
        return to === 'remove' ? viewOf(id, r.def, undefined) : viewOf(id, to.def, to.next);
      }
    }
    throw new Error(`schedule ${id} kept changing under five attempts to change it; try again`);
  }
}

function viewOf(id: string, def: ScheduleDef, next: number | undefined): ScheduleView {
  return {
    id,
    kind: def.kind,
    ...(def.scope === 'user' ? { user: def.subject } : { item: def.subject }),
    name: def.name,
    rule: def.rule,
    tz: def.tz,
    state: def.state,
    next: def.state === 'active' && next !== undefined ? new Date(next).toISOString() : null,
    ...(def.countLeft !== undefined ? { countLeft: def.countLeft } : {}),
    ...(def.until !== undefined ? { until: new Date(def.until).toISOString() } : {}),
    created: new Date(def.start).toISOString(),
    ...(def.data !== undefined ? { data: JSON.parse(def.data) as unknown } : {}),
  };
}
