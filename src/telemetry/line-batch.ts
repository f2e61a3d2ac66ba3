/**
 * JSON log lines on stdout, written together. A worker logs a line per job, and under load a write
 * per line (what pino's destinations do when the destination keeps up, as a container's log driver
 * does) cost more than building the line. Here lines are gathered in order and written synchronously:
 * once MIN_BYTES are waiting, or FLUSH_MS after the first line that waits, and at exit. Synchronous
 * writes keep the order whatever happens at exit, which asynchronous ones in flight cannot promise.
 * A SIGKILL loses at most the last FLUSH_MS of lines.
 */
import { pino } from 'pino';

/** The longest a line waits for the lines after it. */
export const FLUSH_MS = 25;
/** Bytes that are written at once, without waiting for FLUSH_MS (below sonic-boom's 16 KiB write limit). */
const MIN_BYTES = 8 * 1024;

type Destination = ReturnType<typeof pino.destination>;

/** Lines to file descriptor `fd`, gathered as above; flushed when the process exits. */
export function batchedLines(fd: number): pino.DestinationStream {
  const dest: Destination = pino.destination({ dest: fd, sync: true, minLength: MIN_BYTES });
  let timer: NodeJS.Timeout | undefined;
  // `flush` writes what waits (synchronously, as the destination is); `flushSync` also fsyncs, which
  // is for the last write at exit only.
  const flush = (last: boolean) => {
    clearTimeout(timer);
    timer = undefined;
    try {
      if (last) dest.flushSync();
      else dest.flush();
    } catch {
      // A closed descriptor (the reader went away): nothing left to tell it.
    }
  };
  process.on('exit', () => flush(true));
  return {
    write(line: string) {
      dest.write(line);
      if (timer) return;
      timer = setTimeout(flush, FLUSH_MS, false);
      timer.unref();
    },
  };
}

let stdoutLines: pino.DestinationStream | undefined;

/** One batch for the process' stdout, shared by every logger, so their lines keep one order. */
export function batchedStdout(): pino.DestinationStream {
  stdoutLines ??= batchedLines(1);
  return stdoutLines;
}
