/**
 * One JSON line per event (pino), or readable lines at a terminal. Known secret values are scrubbed
 * from every line just before it is written, so a secret that slips into an error message or a URL
 * still never reaches the log.
 */
import { type Logger, pino } from 'pino';
import { prettyFactory } from 'pino-pretty';
import { batchedStdout } from './line-batch.js';

export type { Logger };

export interface LoggerOptions {
  level?: string;
  /** Literal values to replace with "[redacted]" wherever they appear. */
  secrets?: readonly string[];
  /** Where lines go; stdout by default. */
  destination?: pino.DestinationStream;
}

// pino's isoTime, but one Date and ISO string per millisecond: under load many lines share one, and
// formatting it was a tenth of a no-op job's log line.
let lastMs = -1;
let lastTime = '';
function isoTime(): string {
  const ms = Date.now();
  if (ms !== lastMs) {
    lastMs = ms;
    lastTime = `,"time":"${new Date(ms).toISOString()}"`;
  }
  return lastTime;
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  const secrets = [...new Set(opts.secrets ?? [])].filter((s) => s.length > 0);
  // Secrets are matched both raw and as JSON-escaped, the form they take inside a log line.
  const needles = secrets.flatMap((s) => [s, JSON.stringify(s).slice(1, -1), encodeURIComponent(s)]);
  const unique = [...new Set(needles)].sort((a, b) => b.length - a.length);
  return pino(
    {
      level: opts.level ?? 'info',
      base: { pid: process.pid },
      timestamp: isoTime,
      // Explicit paths only: wildcard paths make pino re-walk every log object, a cost paid on each
      // job's log line. Secret values are scrubbed from whole lines below in any case.
      redact: {
        paths: [
          'password',
          'secret',
          'token',
          'authorization',
          'req.headers.authorization',
          'req.headers.cookie',
          'res.headers["set-cookie"]',
        ],
        censor: '[redacted]',
      },
      hooks:
        unique.length > 0
          ? {
              streamWrite(line: string) {
                let out = line;
                for (const n of unique) if (out.includes(n)) out = out.split(n).join('[redacted]');
                return out;
              },
            }
          : {},
    },
    opts.destination ?? stdout(),
  );
}

/**
 * A person at a terminal gets readable lines; anything else (a container's log driver, a pipe, a
 * file) one JSON object per line, written in batches (`line-batch.ts`).
 */
function stdout(): pino.DestinationStream {
  if (process.stdout.isTTY) return prettyStream({ colorize: true });
  return batchedStdout();
}

/**
 * The terminal form: one line per event, its fields on the same line after the message, so a job's
 * start and end read as two lines rather than a dozen indented ones. pino-pretty's own stream would
 * put `err` (here always the reason, a string) on lines of its own, whatever its options say, as
 * pino tells it that `err` is the error key; formatting each line here keeps it on the event's line.
 */
export function prettyStream(opts: { colorize: boolean; destination?: NodeJS.WritableStream }): pino.DestinationStream {
  const format = prettyFactory({
    colorize: opts.colorize,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname',
    singleLine: true,
    errorLikeObjectKeys: [],
  });
  const out = opts.destination ?? process.stdout;
  return { write: (line: string) => void out.write(format(line)) };
}
