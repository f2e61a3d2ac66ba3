/**
 * What a running job holds in its exclusivity group (its user's key, or a place in the group's lane),
 * and how it learns that it may have lost it. A hold is kept until the handler has really returned,
 * even past its timeout; it is lost when its lease could have lapsed (the process was stopped or cut
 * off from Redis for longer than the lease) or when Redis says it belongs to another.
 */

/** The worker no longer surely holds what the job needs (its job lock or its exclusivity lease). */
export class LockLostError extends Error {
  override name = 'LockLostError';
}

/** Where a hold's lease is kept fresh: a user key, or the group's lane. */
export interface Leaseholder {
  /** Local time a renewal that kept the lease was sent: the lease lasts at least `ttl` from then. */
  confirmedAt: number;
  free(hold: Hold): Promise<void>;
}

export class Hold {
  /** Why the hold may be lost; set once. */
  lost: LockLostError | undefined;
  /** Told once when the hold is found lost: the job's context, which aborts the handler's signal. */
  runner: { lose(err: LockLostError): void } | undefined;
  private released = false;

  constructor(
    private readonly by: Leaseholder,
    private readonly ttlMs: number,
  ) {}

  /** Frees the user (or the lane place); once. */
  release(): Promise<void> {
    if (this.released) return Promise.resolve();
    this.released = true;
    return this.by.free(this);
  }

  /**
   * The reason the hold may be lost, checked on the local clock as well: a lease not confirmed for
   * longer than it lasts may have lapsed, and another job of the group may have run meanwhile.
   */
  check(): LockLostError | undefined {
    if (!this.lost && Date.now() > this.by.confirmedAt + this.ttlMs) {
      this.lose('its exclusivity lease was not renewed in time (the process was stopped or cut off from Redis)');
    }
    return this.lost;
  }

  lose(why: string): void {
    if (this.lost || this.released) return;
    this.lost = new LockLostError(`lost its hold on the user: ${why}; another job of the group may run for this user`);
    this.runner?.lose(this.lost);
  }
}
