/**
 * Re-creates the schedules when Redis comes back empty (a restart without persistence, a FLUSHALL):
 * every few seconds the producer counts the schedulers and reconciles when any is missing.
 */
import type { Queue } from 'bullmq';
import type { Logger } from '../telemetry/logger.js';

export class ScheduleWatch {
  private timer: NodeJS.Timeout | undefined;
  private busy = false;

  constructor(
    private readonly queue: Queue,
    private readonly expected: number,
    private readonly reconcile: () => Promise<unknown>,
    private readonly log: Logger,
    private readonly everyMs = 5000,
  ) {}

  start(): void {
    this.timer ??= setInterval(() => void this.check(), this.everyMs);
    this.timer.unref();
  }

  async check(): Promise<boolean> {
    if (this.busy) return false;
    this.busy = true;
    try {
      const n = await this.queue.getJobSchedulersCount();
      if (n === this.expected) return false;
      this.log.warn({ found: n, expected: this.expected }, 'schedules missing from Redis (restarted empty?); reconciling');
      await this.reconcile();
      return true;
    } catch (err) {
      this.log.debug({ err: (err as Error).message }, 'schedule check failed; Redis unavailable?');
      return false;
    } finally {
      this.busy = false;
    }
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
