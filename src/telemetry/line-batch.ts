/**
 * JSON log lines on stdout, written together. A worker logs a line per job, and under load a write
 * per line (what pino's destinations do when the destination keeps up, as a container's log driver
 * does) cost more than building the line. Here lines are gathered in order and written in one
 * synchronous write: once MIN_CHARS wait, or FLUSH_MS after the first line that waits, and at exit.
 * Synchronous writes keep the order whatever happens at exit, which asynchronous ones in flight
 * cannot promise. A SIGKILL loses at most the last FLUSH_MS of lines.
 */
import { pino } from 'pino';

/** The longest a line waits for the lines after it. */
export const FLUSH_MS = 25;
/** Characters that are written at once, without waiting for FLUSH_MS. */
const MIN_CHARS = 8 * 1024;

/** Lines to file descriptor `fd`, gathered as above; what waits is written when the process exits. */
export function batchedLines(fd: number): pino.DestinationStream {
  // pino's synchronous destination (sonic-boom): it retries a write the descriptor is not ready for.
  const dest = pino.destination({ dest: fd, sync: true });
  let pending = '';
  let timer: NodeJS.Timeout | undefined;
  const flush = () => {
    clearTimeout(timer);
    timer = undefined;
    if (pending === '') return;
    const out = pending;
    pending = '';
    try {
      dest.write(out);
    } catch {
      // A closed descriptor (the reader went away): nothing left to tell it.
    }
  };
  process.on('exit', flush);
  return {
    write(line: string) {
      pending += line;
      if (pending.length >= MIN_CHARS) flush();
      else if (!timer) {
        timer = setTimeout(flush, FLUSH_MS);
        timer.unref();
      }
    },
  };
}

let stdoutLines: pino.DestinationStream | undefined;

/** One batch for the process' stdout, shared by every logger, so their lines keep one order. */
export function batchedStdout(): pino.DestinationStream {
  stdoutLines ??= batchedLines(1);
  return stdoutLines;
}
