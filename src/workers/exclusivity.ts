/**
 * Per-user exclusivity across kinds. Two jobs of one group for the same user never run at the same
 * time, on any worker. Within one kind, coalescing already keeps at most one job per user waiting,
 * delayed or running (BullMQ deduplication with keepLastIfActive), so the group only has to keep
 * apart the jobs of *different* kinds. That gives two ways to run a job of the group:
 *
 * - **The lane** (no per-job Redis call): while only one kind of the group has work, its processes
 *   hold the group's lane, a small sorted set of `<kind>|<process>` members with leases, and run
 *   their jobs without per-user keys. A process keeps its lane lease fresh on a timer and starts a
 *   job in the lane only while its last renewal is recent, so a lane is never used on stale news.
 * - **Per-user keys**: one key per group and user, held by the job that runs, renewed while it runs.
 *   A job whose user is held by another waits (moved back to delayed for a moment, no attempt used).
 *
 * Handover: a process of another kind that gets a job registers as active in the group (a second
 * sorted set) and is refused while the lane belongs to another kind. The lane's processes see it at
 * their next renewal, stop starting lane jobs, and leave the lane once their lane jobs have finished.
 * From then on every kind uses per-user keys, until a kind is alone again and takes the lane. All
 * leases last SPOTTER_JOBS_LOCK_DURATION: a worker killed mid-job frees the lane, like its users,
 * when its job lock lapses. Every decision runs inside one Lua script on Redis' clock.
 *
 * A job keeps its hold (key or lane place) until its handler has really returned, past its timeout
 * too, renewed all the while. A hold whose lease could have lapsed (no renewal confirmed for a whole
 * lease, as after a SIGSTOP or a long blocked event loop) or that Redis gives to another is lost: the
 * run-handler aborts the handler's signal and does not count the run as completed (hold.ts).
 */
import { randomUUID } from 'node:crypto';
import { type Scripted, scripted } from '../redis/commands.js';
import type { RedisClient } from '../redis/connection.js';
import { exclusiveActiveKey, exclusiveLaneKey, exclusiveUserKey } from '../redis/keys.js';
import { Lane } from './exclusivity-lane.js';
import { Hold, type Leaseholder } from './hold.js';

export type { Hold } from './hold.js';

/** A user key this process holds for one run; renewed with the others by one timer. */
class KeyLease implements Leaseholder {
  readonly hold: Hold;

  constructor(
    private readonly owner: Exclusivity,
    readonly lane: Lane,
    readonly key: string,
    readonly token: string,
    public confirmedAt: number,
    ttlMs: number,
  ) {
    this.hold = new Hold(this, ttlMs);
  }

  free(): Promise<void> {
    return this.owner.free(this);
  }
}

export class Exclusivity {
  private readonly conn: Scripted;
  private readonly processId = randomUUID().slice(0, 8);
  private runs = 0;
  private readonly lanes = new Map<string, Lane>();
  /** Per-user keys this process holds and still renews, one per run. */
  private readonly held = new Set<KeyLease>();
  private timer: NodeJS.Timeout | undefined;
  private releasing: { key: string; token: string; done: (err?: unknown) => void }[] = [];
  private scheduled = false;

  constructor(
    conn: RedisClient,
    private readonly prefix: string,
    private readonly ttlMs: number,
    /** Told when a kind starts or stops running in its group's lane (for the log). */
    private readonly onLane: (group: string, kind: string, lane: boolean) => void = () => {},
  ) {
    this.conn = scripted(conn);
  }

  key(group: string, userId: string): string {
    return exclusiveUserKey(this.prefix, group, userId);
  }

  private lane(group: string, kind: string): Lane {
    const id = `${group}\0${kind}`;
    let lane = this.lanes.get(id);
    if (!lane) {
      lane = new Lane(
        this.conn,
        exclusiveLaneKey(this.prefix, group),
        exclusiveActiveKey(this.prefix, group),
        kind,
        this.processId,
        this.ttlMs,
        (k, open) => this.onLane(group, k, open),
      );
      this.lanes.set(id, lane);
    }
    return lane;
  }

  /** Whether jobs of `kind` start in the group's lane now (without per-user keys). */
  laneOpen(group: string, kind: string): boolean {
    return this.lanes.get(`${group}\0${kind}`)?.open() ?? false;
  }

  /**
   * Lets a job of `kind` for `userId` run; resolves with its hold, or undefined when it must wait
   * (another job of the group holds the user, or another kind holds the lane). In the lane this
   * answers without asking Redis. The hold is the job's until its release, whatever the handler's
   * timeout: release it once the handler has returned.
   */
  enter(group: string, kind: string, userId: string, jobId: string): Hold | Promise<Hold | undefined> {
    const lane = this.lane(group, kind);
    lane.touch();
    if (lane.open()) return lane.enter();
    return this.acquire(lane, group, userId, jobId);
  }

  private async acquire(lane: Lane, group: string, userId: string, jobId: string): Promise<Hold | undefined> {
    const key = this.key(group, userId);
    // Unique per run: a retry of the same job waits for an attempt of its own that still runs.
    const token = `${jobId}#${this.processId}.${++this.runs}`;
    const sent = Date.now();
    const taken = await new Promise<boolean>((resolve, reject) => {
      lane.asking.push({ key, token, resolve, reject });
      this.schedule();
    });
    if (!taken) return undefined;
    const lease = new KeyLease(this, lane, key, token, sent, this.ttlMs);
    this.held.add(lease);
    lane.locked++;
    this.timer ??= this.renewals();
    return lease.hold;
  }

  /** A keyed run ended: its key is deleted (only while still its own), batched with the others. */
  free(lease: KeyLease): Promise<void> {
    this.held.delete(lease);
    lease.lane.locked--;
    lease.lane.touch();
    return new Promise<void>((resolve, reject) => {
      this.releasing.push({ key: lease.key, token: lease.token, done: (err) => (err ? reject(err) : resolve()) });
      this.schedule();
    });
  }

  // Acquires and releases asked for within one turn of the event loop go to Redis as one call each
  // (per kind), so the keys cost a fraction of a round trip per job.
  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.flush());
  }

  /** Releases first, so a user freed and taken again in the same turn is taken by the new job. */
  private flush(): void {
    this.scheduled = false;
    const releasing = this.releasing;
    this.releasing = [];
    if (releasing.length > 0) {
      this.conn.sjRelease(releasing.length, ...releasing.map((r) => r.key), ...releasing.map((r) => r.token)).then(
        () => {
          for (const r of releasing) r.done();
        },
        (err: unknown) => {
          for (const r of releasing) r.done(err);
        },
      );
    }
    for (const lane of this.lanes.values()) {
      const asking = lane.asking;
      if (asking.length === 0) continue;
      lane.asking = [];
      this.conn
        .sjAcquire(
          asking.length + 2,
          lane.laneKey,
          lane.activeKey,
          ...asking.map((a) => a.key),
          lane.kind,
          lane.member,
          String(this.ttlMs),
          ...asking.map((a) => a.token),
        )
        .then(
          (taken) => {
            for (const [i, a] of asking.entries()) a.resolve(taken[i] === 1);
          },
          (err: unknown) => {
            for (const a of asking) a.reject(err);
          },
        );
    }
  }

  /**
   * Keys are extended every third of a lease; in between, a short tick checks them on the local
   * clock, so that a process waking from a pause longer than the lease aborts its handlers before
   * their own timers run on.
   */
  private renewals(): NodeJS.Timeout {
    const every = Math.max(100, Math.floor(this.ttlMs / 3));
    let last = 0;
    const t = setInterval(
      () => {
        const now = Date.now();
        for (const lease of this.held) if (lease.hold.check()) this.held.delete(lease);
        if (this.held.size === 0 || now - last < every) return;
        last = now;
        const leases = [...this.held];
        const p = this.conn.pipeline() as unknown as {
          sjExtend(k: string, token: string, ttl: string): void;
          exec(): Promise<Array<[Error | null, unknown]> | null>;
        };
        for (const lease of leases) p.sjExtend(lease.key, lease.token, String(this.ttlMs));
        p.exec().then(
          (results) => {
            for (const [i, lease] of leases.entries()) {
              const [err, extended] = results?.[i] ?? [null, undefined];
              if (err || extended === undefined) continue;
              if (extended === 1) lease.confirmedAt = Math.max(lease.confirmedAt, now);
              else if (this.held.delete(lease)) lease.hold.lose('its user key lapsed or was taken by another run');
            }
          },
          () => {},
        );
      },
      Math.max(20, Math.min(100, Math.floor(this.ttlMs / 10))),
    );
    t.unref();
    return t;
  }

  /**
   * At shutdown, once the workers are closed: leaves every lane no job of this process still runs in,
   * so another kind of the group need not wait for the lease to lapse after a restart. Lanes with
   * jobs still running (abandoned past the deadline, or overdue), like held user keys, lapse with the
   * job locks.
   */
  async close(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    const leaving: Promise<unknown>[] = [];
    for (const lane of this.lanes.values()) {
      lane.stop();
      if (lane.running === 0 && lane.locked === 0) leaving.push(lane.leave());
    }
    await Promise.all(leaving);
  }
}
