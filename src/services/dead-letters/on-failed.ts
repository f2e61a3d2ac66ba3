/**
 * The fast path of the dead-letter invariant: the moment BullMQ moves a job to `failed` for good, its
 * dead letter is recorded. If that write fails (or the worker dies first), the sweep records it.
 */
import type { Worker } from 'bullmq';
import type { Logger } from '../../telemetry/logger.js';
import type { DeadLetters } from './store.js';

/**
 * Records a dead letter for each job of `worker` that fails with no retry left. Attach it after the
 * worker's other `failed` listeners: they run first, in the order they were attached.
 */
export function recordDeadLetters(worker: Worker, queue: string, deadLetters: DeadLetters, log: Logger): void {
  worker.on('failed', (job) => {
    // finishedOn is set only when the job moved to `failed` for good (no retry left).
    if (!job?.finishedOn) return;
    deadLetters.record(queue, job).then(
      (id) => log.info({ queue, jobId: job.id, deadLetter: id }, 'dead-lettered'),
      (err: Error) => log.error({ queue, jobId: job.id, err: err.message }, 'could not record dead letter; the sweep will retry'),
    );
  });
}
