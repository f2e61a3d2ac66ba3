/**
 * Errors that come in a loop, logged without flooding. BullMQ's worker tries to fetch its next job
 * again at once when the failure is not a connection error (Redis out of memory, say), emitting the
 * error each time: thousands a second, tens of megabytes of log a minute. So the first error of a
 * message is logged at once, and its repeats within the window are counted and logged as one line
 * when the window ends; a window without repeats ends the message's run, so its next error is logged
 * at once again. At most MAX_MESSAGES messages are tracked; errors of others are counted together.
 */
import type { Logger } from './logger.js';

/** How long repeats of one message are counted before they are logged. */
export const REPEAT_WINDOW_MS = 10_000;
/** Most distinct messages tracked at once (a message may hold an id). */
const MAX_MESSAGES = 20;

interface Run {
  repeats: number;
  since: number;
  timer: NodeJS.Timeout;
}

export class RepeatedErrors {
  private readonly runs = new Map<string, Run>();
  private others = 0;
  /** The first of the others' messages, so no error's text is only ever counted. */
  private otherSample = '';
  private othersSince = 0;
  private othersTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly log: Logger,
    private readonly fields: Record<string, unknown>,
    private readonly msg: string,
    private readonly windowMs = REPEAT_WINDOW_MS,
  ) {}

  report(message: string): void {
    const run = this.runs.get(message);
    if (run) {
      run.repeats++;
      return;
    }
    if (this.runs.size >= MAX_MESSAGES) {
      if (this.others++ === 0) {
        this.otherSample = message;
        this.othersSince = Date.now();
        this.othersTimer = this.later(() => this.endOthers());
      }
      return;
    }
    this.log.error({ ...this.fields, err: message }, this.msg);
    this.runs.set(message, { repeats: 0, since: Date.now(), timer: this.later(() => this.endWindow(message)) });
  }

  /** Logs what was counted and stops the timers; what is reported after starts afresh. */
  close(): void {
    for (const message of [...this.runs.keys()]) this.endWindow(message, true);
    if (this.others > 0) this.endOthers();
  }

  private later(fn: () => void): NodeJS.Timeout {
    const t = setTimeout(fn, this.windowMs);
    t.unref();
    return t;
  }

  private endWindow(message: string, closing = false): void {
    const run = this.runs.get(message);
    if (!run) return;
    clearTimeout(run.timer);
    if (run.repeats === 0) {
      this.runs.delete(message);
      return;
    }
    this.log.error(
      { ...this.fields, err: message, repeats: run.repeats },
      `${this.msg} (again ${run.repeats} times in ${seconds(run.since)} s)`,
    );
    if (closing) {
      this.runs.delete(message);
      return;
    }
    run.repeats = 0;
    run.since = Date.now();
    run.timer = this.later(() => this.endWindow(message));
  }

  private endOthers(): void {
    clearTimeout(this.othersTimer);
    this.othersTimer = undefined;
    this.log.error(
      { ...this.fields, err: this.otherSample, repeats: this.others },
      `${this.msg} (${this.others} more of other messages in ${seconds(this.othersSince)} s, the first of them as err)`,
    );
    this.others = 0;
  }
}

/** Whole seconds since `since`, at least 1. */
function seconds(since: number): number {
  return Math.max(1, Math.round((Date.now() - since) / 1000));
}
