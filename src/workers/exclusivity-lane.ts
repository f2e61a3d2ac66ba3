/**
 * One kind of one exclusivity group in this process: its lane lease, the lane jobs running here, and
 * the acquires of per-user keys gathered this turn (see exclusivity.ts for the whole picture).
 */
import type { Scripted } from '../redis/commands.js';
import { Hold, type Leaseholder } from './hold.js';

export interface Asking {
  key: string;
  token: string;
  resolve: (taken: boolean) => void;
  reject: (err: unknown) => void;
}

/** How long after its last job a process stays active in a group before it leaves it. */
const IDLE_MS = 1000;

export class Lane implements Leaseholder {
  readonly member: string;
  /** Lane jobs running here, lost ones included until their handlers return. */
  readonly holds = new Set<Hold>();
  /** Jobs running here on per-user keys: the process stays active in the group while any runs. */
  locked = 0;
  /** Jobs of this kind that ran or asked here lately; the process is active in the group until idle. */
  lastUse = 0;
  /** Lane jobs may start until then (local clock): half a lease after the renewal was sent. */
  grantedUntil = 0;
  /** When the last renewal that kept this process's lane lease was sent (local clock). */
  confirmedAt = 0;
  asking: Asking[] = [];
  private timer: NodeJS.Timeout | undefined;
  private renewing = false;
  private inLane = false;

  constructor(
    private readonly conn: Scripted,
    readonly laneKey: string,
    readonly activeKey: string,
    readonly kind: string,
    processId: string,
    private readonly ttlMs: number,
    private readonly onChange: (kind: string, lane: boolean) => void,
  ) {
    this.member = `${kind}|${processId}`;
  }

  get running(): number {
    return this.holds.size;
  }

  /** Called for every job of the kind: keeps the process active and the renewals going. */
  touch(): void {
    this.lastUse = Date.now();
    if (!this.timer) {
      this.timer = setInterval(() => this.renew(), Math.max(20, Math.min(100, Math.floor(this.ttlMs / 10))));
      this.timer.unref();
      this.renew();
    }
  }

  /** A lane job may start now. */
  open(): boolean {
    return Date.now() < this.grantedUntil;
  }

  /** A lane job starts: it holds its place until its handler returns. */
  enter(): Hold {
    const hold = new Hold(this, this.ttlMs);
    this.holds.add(hold);
    return hold;
  }

  /** A lane job ended; the last one out of a closed lane leaves it at once, so the other kind need not wait. */
  free(hold: Hold): Promise<void> {
    this.holds.delete(hold);
    this.lastUse = Date.now();
    if (this.running === 0 && !this.open()) this.renew();
    return Promise.resolve();
  }

  private lose(why: string): void {
    for (const h of this.holds) h.lose(why);
  }

  /** One lane call at a time, so a leave can never overtake a renewal. */
  renew(): void {
    // First, on the local clock: after a pause longer than the lease (a stopped process, a blocked
    // event loop) the lane jobs are aborted before anything else of theirs runs.
    if (this.running > 0 && Date.now() > this.confirmedAt + this.ttlMs) {
      this.lose('the lane lease was not renewed in time (the process was stopped or cut off from Redis)');
    }
    if (this.renewing) return;
    const idle = this.running === 0 && this.locked === 0 && Date.now() - this.lastUse > IDLE_MS;
    if (idle || (!this.open() && this.running === 0 && this.inLane)) {
      this.leaveNow(idle);
      return;
    }
    const sent = Date.now();
    this.renewing = true;
    this.conn.sjLaneRenew(this.laneKey, this.activeKey, this.kind, this.member, String(this.ttlMs), String(this.running)).then(
      ([answer, lapsed]) => this.renewed(sent, answer, lapsed === 1),
      () => {
        this.renewing = false;
        this.grantedUntil = 0;
      },
    );
  }

  private renewed(sent: number, answer: number, lapsed: boolean): void {
    this.renewing = false;
    if (lapsed) this.lose('the lane lease lapsed');
    const was = this.open();
    // 1 and 2 extended the lease; 0 did not (the lease then lasts from an earlier renewal, if any).
    if (answer !== 0) this.confirmedAt = Math.max(this.confirmedAt, sent);
    if (answer === 1) {
      this.inLane = true;
      this.grantedUntil = sent + this.ttlMs / 2;
    } else {
      this.grantedUntil = 0;
      // Still listed while lane jobs run here; out as soon as they are done.
      if (this.running === 0 && this.inLane) this.renew();
    }
    if (was !== this.open()) this.onChange(this.kind, this.open());
  }

  /** Leaving: no lane job may start from here on, whatever the answer. */
  private leaveNow(idle: boolean): void {
    const was = this.inLane;
    this.grantedUntil = 0;
    this.renewing = true;
    this.inLane = false;
    this.conn
      .sjLaneLeave(this.laneKey, this.activeKey, this.member, idle ? '1' : '0')
      .catch(() => {})
      .finally(() => {
        this.renewing = false;
      });
    if (idle) this.stop();
    if (was) this.onChange(this.kind, false);
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Out of the lane and the active set for good (shutdown); errors are left to the leases. */
  leave(): Promise<unknown> {
    this.grantedUntil = 0;
    this.inLane = false;
    return this.conn.sjLaneLeave(this.laneKey, this.activeKey, this.member, '1').catch(() => {});
  }
}
