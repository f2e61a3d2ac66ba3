/**
 * What a worker does for a fair kind it consumes (docs/fair-share.md): it serves the kind's
 * admission (a refill every second), asks for a refill as each job starts (its place in the window
 * opens), and, for a kind with an owner cap, holds and lets go of the owners' places.
 */
import type { Worker } from 'bullmq';
import type { KindConfig } from '../config/kind-config.js';
import { fairOf } from '../jobs/fair-admission.js';
import type { Queues } from '../jobs/queues.js';
import { lostLockJobId } from './lost-lock.js';
import { OwnerHolds } from './owner-holds.js';

export class FairWorker {
  private readonly holds: OwnerHolds;

  constructor(private readonly queues: Queues) {
    this.holds = new OwnerHolds(queues);
  }

  attach(worker: Worker, kind: KindConfig): void {
    const admission = fairOf(this.queues);
    if (!kind.fair) {
      void admission.drain(kind);
      return;
    }
    admission.serve(kind);
    const capped = kind.fair.ownerConcurrency !== undefined;
    worker.on('active', (job) => {
      admission.kick(kind, 'start');
      if (capped) this.holds.start(kind, String(job.id), job.data, job.token);
    });
    if (!capped) return;
    worker.on('completed', (job) => this.holds.end(kind, String(job.id), job.data));
    // A failed attempt that is retried keeps its owner's place (the retry counts against the cap as
    // the same job); only the last one lets it go. The worker stops renewing it either way: the
    // retry may run elsewhere, and the lease keeps the hold while the job waits (fair-refill.lua).
    worker.on('failed', (job) => {
      if (!job) return;
      if (job.finishedOn) this.holds.end(kind, String(job.id), job.data);
      else this.holds.forget(kind, String(job.id));
    });
    // A lost lock: another worker may run the job and let its hold go; this one must not take it back.
    worker.on('lockRenewalFailed', (ids: string[]) => {
      for (const id of ids) this.holds.forget(kind, id);
    });
    worker.on('error', (err) => {
      const lost = lostLockJobId(err.message);
      if (lost) this.holds.forget(kind, lost);
    });
  }

  close(): void {
    this.holds.close();
  }
}
