/**
 * JSON log lines on stdout, written together. A worker logs a line per job, and under load a write
 * per line (what pino's destinations do when the destination keeps up, as a container's log driver
 * does) cost more than building the line. So:
 * - the lines logged in one turn of the event loop go out in one write at its end (setImmediate),
 *   and at once when 8 K characters wait or the line is a warning or an error. A process killed
 *   outright (SIGKILL, a crash) loses at most the lines of the turn it died in: the lines before
 *   a job that takes its worker down are out before the job runs;
 * - writes are synchronous, so the order holds whatever happens at exit, and never wait: what a
 *   reader that fell behind (a full pipe) did not take is held and tried again RETRY_MS later. pino's
 *   synchronous destination would instead retry in a loop and stall the process (lock renewals,
 *   probes) until the reader caught up. Past MAX_HELD_BYTES the oldest held lines are dropped, and
 *   how many bytes were dropped is logged once writes go through again;
 * - at exit what is held is written, waiting at most EXIT_WAIT_MS for a full pipe.
 */
import { writeSync } from 'node:fs';
import type { DestinationStream } from 'pino';

/** How soon what a reader that fell behind did not take is tried again. */
const RETRY_MS = 25;
/** Characters that are written at once, without waiting for the end of the turn. */
const MIN_CHARS = 8 * 1024;
/** Most bytes held for a reader that fell behind; older lines are dropped past it. */
const MAX_HELD_BYTES = 16 * 2 ** 20;
/** Longest wait at exit for a reader that fell behind. */
const EXIT_WAIT_MS = 1000;

/** pino's JSON starts with the level: 40 (warn) and above are written at once. */
function urgent(line: string): boolean {
  const c = line.charCodeAt(9);
  return c >= 52 && c <= 57 && line.startsWith('{"level":') && line.charCodeAt(11) === 44;
}

const nap = new Int32Array(new SharedArrayBuffer(4));

export class LineBatch implements DestinationStream {
  private pending = '';
  private held: Buffer[] = [];
  private heldBytes = 0;
  private droppedBytes = 0;
  private turn: NodeJS.Immediate | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** The first held buffer was written in part: it is the rest of a line and is never dropped. */
  private partial = false;
  /** The reader went away (EPIPE) or the descriptor is gone: lines are dropped from then on. */
  private gone = false;
  private readonly atExit = () => this.drainAtExit();
  private readonly maxHeldBytes: number;

  constructor(
    private readonly fd: number,
    opts: { maxHeldBytes?: number } = {},
  ) {
    this.maxHeldBytes = opts.maxHeldBytes ?? MAX_HELD_BYTES;
    process.on('exit', this.atExit);
  }

  /** Bytes and characters not written yet. */
  waiting(): number {
    return this.heldBytes + this.pending.length;
  }

  write(line: string): void {
    if (this.gone) return;
    this.pending += line;
    if (this.pending.length >= MIN_CHARS || urgent(line)) this.flush();
    else if (!this.turn) {
      this.turn = setImmediate(() => this.flush());
      this.turn.unref();
    }
  }

  /** Writes what waits, as far as the reader takes it; what it does not take is tried again later. */
  flush(done?: (err?: Error) => void): void {
    if (this.turn) clearImmediate(this.turn);
    this.turn = undefined;
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending !== '') {
      this.hold(Buffer.from(this.pending));
      this.pending = '';
    }
    if (!this.send() && !this.gone) this.later();
    done?.();
  }

  /** Writes what waits and stops writing at exit (for a batch that is not the process's stdout). */
  close(): void {
    this.flush();
    clearTimeout(this.timer);
    this.timer = undefined;
    process.off('exit', this.atExit);
  }

  private later(): void {
    this.timer = setTimeout(() => this.flush(), RETRY_MS);
    this.timer.unref();
  }

  private hold(buf: Buffer): void {
    this.held.push(buf);
    this.heldBytes += buf.length;
    const keep = this.partial ? 1 : 0;
    while (this.heldBytes > this.maxHeldBytes && this.held.length > keep + 1) {
      const [old] = this.held.splice(keep, 1) as [Buffer];
      this.heldBytes -= old.length;
      this.droppedBytes += old.length;
    }
  }

  /** Writes what is held until it is all written (true) or the reader takes no more now (false). */
  private send(): boolean {
    if (this.droppedBytes > 0 && this.held.length > 0) this.noteDropped();
    while (this.held.length > 0) {
      const buf = this.held[0] as Buffer;
      let n: number;
      try {
        n = writeSync(this.fd, buf);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EAGAIN') return false;
        // EPIPE, EBADF: nobody will read these lines.
        this.gone = true;
        this.held = [];
        this.heldBytes = 0;
        this.partial = false;
        return true;
      }
      this.heldBytes -= n;
      this.partial = n < buf.length;
      if (this.partial) this.held[0] = buf.subarray(n);
      else this.held.shift();
    }
    return true;
  }

  /** A line before the held ones saying how much was dropped while the reader fell behind. */
  private noteDropped(): void {
    const note = {
      level: 40,
      time: new Date().toISOString(),
      pid: process.pid,
      droppedBytes: this.droppedBytes,
      msg: 'log lines dropped: stdout was not read fast enough',
    };
    const buf = Buffer.from(`${JSON.stringify(note)}\n`);
    this.held.splice(this.partial ? 1 : 0, 0, buf);
    this.heldBytes += buf.length;
    this.droppedBytes = 0;
  }

  private drainAtExit(): void {
    clearTimeout(this.timer);
    if (this.turn) clearImmediate(this.turn);
    if (this.gone) return;
    if (this.pending !== '') {
      this.hold(Buffer.from(this.pending));
      this.pending = '';
    }
    const deadline = Date.now() + EXIT_WAIT_MS;
    while (!this.send() && Date.now() < deadline) Atomics.wait(nap, 0, 0, 10);
  }
}

let stdoutLines: LineBatch | undefined;

/** One batch for the process' stdout, shared by every logger, so their lines keep one order. */
export function batchedStdout(): LineBatch {
  // Node makes a pipe on stdout non-blocking once process.stdout exists: a full pipe then answers
  // EAGAIN (the lines are held) rather than blocking the process in write(2).
  void process.stdout;
  stdoutLines ??= new LineBatch(1);
  return stdoutLines;
}
