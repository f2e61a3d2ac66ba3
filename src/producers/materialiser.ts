/**
 * Turns subject schedules into jobs shortly before they are due. Each pass reads the buckets whose
 * earliest run falls within the execution window (SPOTTER_JOBS_SCHEDULE_WINDOW), plans each
 * occurrence, takes the ones still due in one script per round (two producers: one takes each, the
 * other gets nothing), stores the next runs in that same script, then adds the jobs, delayed to
 * their time, with ids derived from schedule and run.
 *
 * A producer killed between taking occurrences and adding their jobs leaves them pending: a later
 * pass (any producer's) adds the job of an occurrence still pending after a grace whose job is not
 * in Redis (materialiser-recovery.ts). Workers take a run out of pending as it starts, and run no
 * second job of a run that started (sched-start.lua). A schedule whose kind or trigger this producer
 * does not know is set aside at its due time, not moved, until a producer that knows it puts it back.
 */
import type { Config } from '../config/config.js';
import type { KindConfig } from '../config/kind-config.js';
import type { Queues } from '../jobs/queues.js';
import { scripted } from '../redis/commands.js';
import { denseValueLimit } from '../redis/dense-limit.js';
import { scheduleBaseKey } from '../redis/keys.js';
import { decodeDef, encodeDef, type ScheduleDef, versionOf } from '../schedules/subject/codec.js';
import { planOccurrence, triggerOf } from '../schedules/subject/occurrence.js';
import { addOccurrences, occurrenceJob } from '../schedules/subject/occurrence-job.js';
import { SubjectSchedules } from '../schedules/subject/store.js';
import type { Logger } from '../telemetry/logger.js';
import { sleep } from './listing-limits.js';
import { recoverPending, unpark } from './materialiser-recovery.js';

/** Buckets, and schedules per bucket, one round reads; rounds per pass. Bounded work per pass. */
const BUCKETS_PER_ROUND = 64;
const PER_BUCKET = 128;
const ROUNDS_PER_PASS = 50;
/** How often a producer looks for parked schedules it can put back. */
const UNPARK_EVERY_MS = 60_000;

export interface MaterialiserDeps {
  config: Config;
  queues: Queues;
  log: Logger;
  /** An occurrence's job was added this long after (0: before) its time. */
  observeLag?: (kind: string, stage: 'enqueued', seconds: number) => void;
}

export interface PassResult {
  added: number;
  skipped: number;
  recovered: number;
}

type Due = { id: string; at: number; text: string; shared: string };
type Taken = { kind: KindConfig; id: string; def: ScheduleDef; runAt: number; lateMs: number; version: string };

export class Materialiser {
  private readonly stop = new AbortController();
  private loop: Promise<void> | undefined;
  private readonly store: SubjectSchedules;
  private unparkedAt = Number.NEGATIVE_INFINITY;
  /** Where the next look at the parked schedules starts (materialiser-recovery.ts `unpark`). */
  private unparkFrom = 0;
  readonly pollMs: number;
  readonly graceMs: number;

  constructor(
    private readonly deps: MaterialiserDeps,
    private readonly now: () => number = Date.now,
  ) {
    const window = deps.config.subjectSchedules.windowMs;
    this.pollMs = Math.min(1000, Math.max(100, Math.floor(window / 4)));
    this.graceMs = Math.min(30_000, Math.max(1000, Math.floor(window / 2)));
    this.store = new SubjectSchedules(deps.queues.conn, deps.config, now);
  }

  start(): void {
    this.loop ??= this.run();
  }

  async close(): Promise<void> {
    this.stop.abort();
    await this.loop;
  }

  private async run(): Promise<void> {
    while (!this.stop.signal.aborted) {
      let busy = false;
      try {
        const r = await this.pass();
        busy = r.added + r.skipped >= BUCKETS_PER_ROUND * ROUNDS_PER_PASS;
      } catch (err) {
        this.deps.log.warn({ err: (err as Error).message }, 'subject schedules: a materialiser pass failed; next pass soon');
      }
      // Closing aborts the pause; that is no error.
      if (!busy) await sleep(this.pollMs, this.stop.signal).catch(() => undefined);
    }
  }

  /** One pass: pending occurrences first, then what is due within the window. */
  async pass(): Promise<PassResult> {
    const d = { ...this.deps, store: this.store };
    const recovered = await recoverPending(d, this.now(), this.graceMs);
    if (this.now() - this.unparkedAt >= UNPARK_EVERY_MS) {
      this.unparkedAt = this.now();
      this.unparkFrom = (await unpark(d, this.unparkFrom)).next;
    }
    let added = 0;
    let skipped = 0;
    const conn = scripted(this.deps.queues.conn);
    for (let round = 0; round < ROUNDS_PER_PASS && !this.stop.signal.aborted; round++) {
      const horizon = this.now() + this.deps.config.subjectSchedules.windowMs;
      const flat = await conn.sjSchedDue(
        scheduleBaseKey(this.deps.config.prefix),
        String(horizon),
        String(BUCKETS_PER_ROUND),
        String(PER_BUCKET),
      );
      if (flat.length === 0) break;
      const due: Due[] = [];
      for (let i = 0; i < flat.length; i += 4) {
        due.push({ id: flat[i] as string, at: Number(flat[i + 1]), text: flat[i + 2] as string, shared: flat[i + 3] as string });
      }
      const r = await this.take(due);
      added += r.added;
      skipped += r.skipped;
    }
    return { added, skipped, recovered };
  }

  /** Plans, takes and adds one round's occurrences. */
  private async take(due: Due[]): Promise<{ added: number; skipped: number }> {
    const now = this.now();
    const args: string[] = [];
    const planned: Array<Taken | undefined> = [];
    for (const d of due) {
      const r = this.plan(d, now);
      args.push(d.id, String(d.at), d.text, r.text, r.next === undefined ? '' : String(r.next), r.taken ? '1' : '0', String(r.runAt));
      planned.push(r.taken);
    }
    const conn = this.deps.queues.conn;
    const max = String(await denseValueLimit(conn));
    const ok = await scripted(conn).sjSchedCommit(scheduleBaseKey(this.deps.config.prefix), String(now), max, ...args);
    const taken = planned.filter((t, i): t is Taken => t !== undefined && ok[i] === 1);
    await this.addJobs(taken, now);
    return { added: taken.length, skipped: ok.filter((v) => v === 1).length - taken.length };
  }

  /** What becomes of one occurrence: the new definition, next run, and the job to add if it runs. */
  private plan(d: Due, now: number): { text: string; next: number | 'park' | undefined; runAt: number; taken?: Taken } {
    const def = d.text ? decodeDef(d.text, d.shared || undefined) : undefined;
    const kind = def ? this.deps.config.kinds[def.kind] : undefined;
    // Set aside at its due time, not moved to a time of its own: its run is decided once it is known.
    const park = { text: '', next: 'park' as const, runAt: d.at };
    if (!def || !kind) {
      this.deps.log.warn(
        { schedule: d.id, kind: def?.kind },
        'subject schedule of a kind this producer does not know: set aside until a producer does',
      );
      return park;
    }
    let p: ReturnType<typeof planOccurrence>;
    try {
      p = planOccurrence(def, d.at, now, triggerOf(def), kind.catchUp);
    } catch (err) {
      this.deps.log.warn(
        { schedule: d.id, kind: def.kind, err: (err as Error).message },
        'subject schedule whose trigger this producer cannot read: set aside until a producer can',
      );
      return park;
    }
    const scope = { schedule: d.id, kind: def.kind, at: new Date(p.runAt).toISOString() };
    if (p.skipped) this.deps.log.info({ ...scope, reason: p.skipped }, 'subject schedule occurrence skipped');
    else if (p.lateMs > 1000) this.deps.log.warn({ ...scope, lagMs: p.lateMs }, 'subject schedule occurrence runs late');
    if (p.next === undefined) this.deps.log.info(scope, 'subject schedule ended (its last run, count or until reached)');
    const text = p.def.state !== def.state || p.def.countLeft !== def.countLeft ? encodeDef(p.def).text : '';
    const taken = { kind, id: d.id, def, runAt: p.runAt, lateMs: p.lateMs, version: versionOf(d.text) };
    return { text, next: p.next, runAt: p.runAt, ...(p.run ? { taken } : {}) };
  }

  private async addJobs(taken: Taken[], now: number): Promise<void> {
    const byKind = new Map<KindConfig, Taken[]>();
    for (const t of taken) byKind.set(t.kind, [...(byKind.get(t.kind) ?? []), t]);
    for (const [kind, list] of byKind) {
      const jobs = list.map((t) => occurrenceJob(t.kind, t.id, t.def, t.runAt, t.runAt - now, t.version));
      await addOccurrences(this.deps.queues, kind, jobs);
      for (const t of list) this.deps.observeLag?.(t.kind.name, 'enqueued', t.lateMs / 1000);
    }
  }
}
