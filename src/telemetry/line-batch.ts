/**
 * Log lines written together. pino's asynchronous destination writes a line as soon as no write is
 * in flight, and to a destination that keeps up (a pipe read promptly, a file) that is nearly every
 * line: under load a worker logs a line per job, and each write, a trip through libuv's thread pool,
 * cost more than building the line. Here a line that finds the destination idle (nothing written for
 * BATCH_MS) goes out at once, and the lines that follow within BATCH_MS go out together when it ends.
 */
import { writeSync } from 'node:fs';
import type { DestinationStream } from 'pino';

/** The longest a line waits for the lines after it. */
export const BATCH_MS = 10;

type Flushable = DestinationStream & { flush?: (cb: (err?: Error) => void) => void };

/**
 * `dest`, fed in batches. Lines still held when the process exits are written synchronously to `fd`
 * (the destination's own file descriptor), after pino's own exit flush of what it was handed before.
 */
export function batchedLines(dest: Flushable, fd: number): Flushable {
  let pending = '';
  let last = 0;
  let timer: NodeJS.Timeout | undefined;
  const send = () => {
    clearTimeout(timer);
    timer = undefined;
    last = Date.now();
    const out = pending;
    pending = '';
    if (out) dest.write(out);
  };
  process.on('exit', () => {
    if (!pending) return;
    try {
      writeSync(fd, pending);
    } catch {
      // A closed stdout at exit: nothing left to tell.
    }
  });
  return {
    write(line: string) {
      pending += line;
      if (timer) return;
      const wait = last + BATCH_MS - Date.now();
      if (wait <= 0) send();
      else {
        timer = setTimeout(send, wait);
        timer.unref();
      }
    },
    flush(cb) {
      send();
      if (dest.flush) dest.flush(cb);
      else cb();
    },
  };
}
