/**
 * The per-owner cap of a fair kind (`ownerConcurrency`), on the worker's side. Admission holds a
 * place for each job it lets in (fair-refill.lua); the worker renews it while the job runs and lets
 * go when the job ends (not between retries), so the owner's next job can be admitted. A hold is a lease: a worker
 * killed under a job leaves it to lapse (HOLD_LEASE_MS) unless the job runs again elsewhere first,
 * which takes the same hold over. Only capped kinds pay for this: the starts of one turn of the event
 * loop are held in one script call per kind, and the ends let go in one, as filing batches its adds.
 * A job is renewed only while its lock is still this worker's: one sent back to wait (delayed by its
 * exclusivity group, which gives the lock up) or taken over by another worker may end there, and
 * renewing it here would bring its hold back.
 */
import type { KindConfig } from '../config/kind-config.js';
import { fairOf, HOLD_LEASE_MS } from '../jobs/fair-admission.js';
import { type FairKeys, fairKeys, holdMember } from '../jobs/fair-keys.js';
import { admissionOwner } from '../jobs/owner.js';
import type { Queues } from '../jobs/queues.js';
import type { JobData } from '../jobs/registry.js';
import { scripted } from '../redis/commands.js';

/** Running jobs' holds are renewed this often, well within their lease. */
const RENEW_EVERY_MS = HOLD_LEASE_MS / 5;

interface Held {
  kind: KindConfig;
  keys: FairKeys;
  member: string;
  jobId: string;
  /** The job's lock token in this worker: renewed only while the lock is still this worker's. */
  token: string;
}

/** A kind's holds to take and to let go at the end of this turn. */
interface Turn {
  kind: KindConfig;
  keys: FairKeys;
  /** Started jobs' keys in `held` and their hold members. */
  take: Array<{ key: string; member: string }>;
  release: Array<{ jobId: string; member: string }>;
}

export class OwnerHolds {
  private readonly held = new Map<string, Held>();
  private timer: NodeJS.Timeout | undefined;
  /** Each capped kind's keys, built once rather than per job. */
  private readonly keysByKind = new Map<string, FairKeys>();
  private turn = new Map<string, Turn>();

  constructor(private readonly queues: Queues) {}

  /** The job started: its owner's hold is taken (or renewed, when admission took it). */
  start(kind: KindConfig, jobId: string, data: unknown, token = ''): void {
    const keys = this.keysOf(kind);
    const h: Held = { kind, keys, member: holdMember(admissionOwner(data as JobData), jobId), jobId, token };
    const key = `${kind.queue}\0${jobId}`;
    this.held.set(key, h);
    this.inTurn(kind, keys).take.push({ key, member: h.member });
    this.timer ??= setInterval(() => this.renew(), RENEW_EVERY_MS);
    this.timer.unref();
  }

  /**
   * The job ended (done, or failed for the last time): the hold goes, and the owner's next job may
   * come in. Let go by the job's own owner, whether or not this worker still renews it (it stops
   * renewing a job whose lock it lost); letting go of a hold that is not there changes nothing.
   */
  end(kind: KindConfig, jobId: string, data: unknown): void {
    const key = `${kind.queue}\0${jobId}`;
    this.held.delete(key);
    const keys = this.keysOf(kind);
    this.inTurn(kind, keys).release.push({ jobId, member: holdMember(admissionOwner(data as JobData), jobId) });
  }

  private keysOf(kind: KindConfig): FairKeys {
    let keys = this.keysByKind.get(kind.name);
    if (!keys) {
      keys = fairKeys(this.queues.prefix, kind);
      this.keysByKind.set(kind.name, keys);
    }
    return keys;
  }

  /** This turn's batch of the kind, flushed once the turn ends. */
  private inTurn(kind: KindConfig, keys: FairKeys): Turn {
    if (this.turn.size === 0) setImmediate(() => this.flush());
    let t = this.turn.get(kind.name);
    if (!t) {
      t = { kind, keys, take: [], release: [] };
      this.turn.set(kind.name, t);
    }
    return t;
  }

  /**
   * Holds taken before those let go. A job that ended or was forgotten within the turn is not held
   * again (an ended one's release lets go of the hold admission took).
   */
  private flush(): void {
    const turn = this.turn;
    this.turn = new Map();
    for (const { kind, keys, take, release } of turn.values()) {
      // A job forgotten since it started (its lock lost) is not held again by this worker.
      const still = take.filter((t) => this.held.has(t.key)).map((t) => t.member);
      if (still.length > 0) this.hold(keys, still);
      if (release.length === 0) continue;
      const cap = String(kind.fair?.ownerConcurrency ?? 0);
      scripted(this.queues.conn)
        .sjFairRelease(keys.held, keys.holds, keys.owners, keys.parked, keys.clock, cap, ...release.map((r) => r.member))
        .then(
          () => fairOf(this.queues).kick(kind, 'end'),
          (err: Error) =>
            this.queues.log.warn(
              { kind: kind.name, jobIds: release.slice(0, 10).map((r) => r.jobId), err: err.message },
              'fair admission: could not let go of holds; they lapse',
            ),
        );
    }
  }

  /**
   * This worker no longer runs the job (its lock was lost, or the attempt failed and is retried): it
   * stops renewing the hold and leaves it in Redis, to whoever runs the job next or to the lease.
   */
  forget(kind: KindConfig, jobId: string): void {
    this.held.delete(`${kind.queue}\0${jobId}`);
  }

  private hold(keys: FairKeys, members: string[]): void {
    scripted(this.queues.conn)
      .sjFairHold(keys.held, keys.holds, String(HOLD_LEASE_MS), '', ...members)
      .catch((err: Error) => this.queues.log.warn({ err: err.message }, 'fair admission: could not hold jobs; held on the next round'));
  }

  /**
   * Renews the holds of the jobs this worker still has the lock of, and forgets the others: a job sent
   * back to wait or taken over (its end, wherever it runs, lets the hold go; the refill keeps a waiting
   * job's hold meanwhile). A held job's hold that is gone (a refill without the cap dropped the holds)
   * is taken again.
   */
  private renew(): void {
    const byKind = new Map<string, { keys: FairKeys; args: string[]; of: Map<string, [string, Held]> }>();
    for (const [key, h] of this.held) {
      const k = byKind.get(h.kind.name) ?? { keys: h.keys, args: [], of: new Map<string, [string, Held]>() };
      k.args.push(h.member, h.token);
      k.of.set(h.member, [key, h]);
      byKind.set(h.kind.name, k);
    }
    for (const { keys, args, of } of byKind.values()) {
      scripted(this.queues.conn)
        .sjFairHold(keys.held, keys.holds, String(HOLD_LEASE_MS), keys.queuePrefix, ...args)
        .then(
          // Its lock is another worker's now: forgotten (BullMQ reports the lost lock too), unless
          // the job started here again meanwhile, under a record of its own.
          (lost) => {
            for (const m of lost) {
              const [key, h] = of.get(m) ?? [];
              if (key !== undefined && this.held.get(key) === h) this.held.delete(key);
            }
          },
          (err: Error) => this.queues.log.warn({ err: err.message }, 'fair admission: could not renew holds; renewed on the next round'),
        );
    }
  }

  close(): void {
    this.flush();
    clearInterval(this.timer);
    this.timer = undefined;
  }
}
