/**
 * Field parsers for the configuration: each a zod schema over the raw string whose message is the
 * accepted form, so every error names the variable, the value and what would have been right.
 */
import { CronExpressionParser } from 'cron-parser';
import { z } from 'zod';
import type { KindSchedule } from './catalog.js';
import { DURATION_FORM, formatDuration, parseDuration } from './duration.js';
import { ConfigError } from './errors.js';

/**
 * How a kind's schedule was written: a duration (`every`, ms) or a cron `pattern`, both run by BullMQ
 * as they always were; a `rule` (an RRULE or English text) that only the producer can read, so it is
 * checked there at start (src/schedules/kind-cadence.ts); or a module's own `next` function.
 */
export type Interval =
  | { every: number; pattern?: undefined; rule?: undefined; next?: undefined }
  | { pattern: string; every?: undefined; rule?: undefined; next?: undefined }
  | { rule: string; every?: undefined; pattern?: undefined; next?: undefined }
  | { next: KindSchedule['next']; every?: undefined; pattern?: undefined; rule?: undefined };

export const str = z.string();
/** The longest delay a Node timer honours: 2^31 - 1 ms (longer ones fire after 1 ms). */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * A Go duration used as a timer, so at most MAX_TIMER_MS. Ages compared with timestamps (retention)
 * have no such limit: pass `max: Infinity`.
 */
export const duration = (opts: { min?: number; max?: number } = {}) =>
  str.transform((s, ctx) => {
    const ms = parseDuration(s);
    const max = opts.max ?? MAX_TIMER_MS;
    if (ms === undefined || ms < (opts.min ?? 0) || ms > max) {
      const bounds = [
        opts.min ? `at least ${formatDuration(opts.min)}` : '',
        Number.isFinite(max) ? `at most ${formatDuration(max)}` : '',
      ].filter(Boolean);
      ctx.addIssue({ code: 'custom', message: [DURATION_FORM, ...bounds].join(', ') });
      return z.NEVER;
    }
    return ms;
  });
/** A Go duration that is an age, not a timer. */
export const age = (min = 0) => duration({ min, max: Number.POSITIVE_INFINITY });
/**
 * How long completed jobs are kept: at least a second. User history files its records by periods of
 * the longest completed retention, which must not be zero (0 gave a key ending in `Infinity`).
 */
export const completedAge = () => age(1000);
export const bool = str.transform((s, ctx) => {
  const v = s.trim().toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(v)) return true;
  if (['false', '0', 'no', 'off'].includes(v)) return false;
  ctx.addIssue({ code: 'custom', message: 'true or false (also 1/0, yes/no, on/off)' });
  return z.NEVER;
});
export const int = (min: number, max = Number.MAX_SAFE_INTEGER) =>
  str.transform((s, ctx) => {
    const t = s.trim();
    if (!/^\d+$/.test(t) || Number(t) < min || Number(t) > max) {
      ctx.addIssue({ code: 'custom', message: `a whole number from ${min} to ${max}` });
      return z.NEVER;
    }
    return Number(t);
  });
export const rate = str.transform((s, ctx) => {
  const m = /^(\d+)\/(.+)$/.exec(s.trim());
  const max = m ? Number(m[1]) : 0;
  const durationMs = m ? parseDuration(m[2] as string) : undefined;
  if (!m || max < 1 || !durationMs) {
    ctx.addIssue({ code: 'custom', message: '<max>/<duration>, such as 1/1s or 100/1m' });
    return z.NEVER;
  }
  return { max, durationMs };
});
export const ratio = str.transform((s, ctx) => {
  const n = Number(s.trim());
  if (s.trim() === '' || !Number.isFinite(n) || n < 0 || n > 1) {
    ctx.addIssue({ code: 'custom', message: 'a number from 0 to 1' });
    return z.NEVER;
  }
  return n;
});
export const tz = str.refine((s) => {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: s });
    return true;
  } catch {
    return false;
  }
}, 'an IANA time zone such as UTC or Europe/Berlin');
export const redisUrl = str.refine((s) => {
  try {
    const u = new URL(s);
    // The path names the database: empty, or a whole number (checked against the server at start).
    return (u.protocol === 'redis:' || u.protocol === 'rediss:') && u.hostname !== '' && /^(\/(\d{1,6})?)?$/.test(u.pathname);
  } catch {
    return false;
  }
}, 'redis://[user:password@]host[:port][/db] or rediss://…, db a whole number');
export const httpUrl = str.refine((s) => {
  try {
    const u = new URL(s);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
}, 'an http:// or https:// URL');
export const nonEmpty = str.min(1, 'a non-empty string');
export const basicUser = str.regex(/^[^:]+$/, 'a non-empty user name without a colon (basic auth splits at the first colon)');
export const hostPorts = str.transform((s, ctx) => {
  const out: { host: string; port: number }[] = [];
  for (const part of s
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const m = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(part);
    if (!m || Number(m[2]) > 65535) {
      ctx.addIssue({ code: 'custom', message: 'comma-separated host:port pairs such as sentinel-1:26379,sentinel-2:26379' });
      return z.NEVER;
    }
    out.push({ host: (m[1] as string).replace(/^\[|\]$/g, ''), port: Number(m[2]) });
  }
  if (out.length === 0) {
    ctx.addIssue({ code: 'custom', message: 'comma-separated host:port pairs such as sentinel-1:26379,sentinel-2:26379' });
    return z.NEVER;
  }
  return out;
});
export const hostNames = str.transform((s, ctx) => {
  const names = s
    .split(',')
    .map((h) => h.trim().toLowerCase())
    .filter(Boolean);
  if (names.length === 0 || names.some((h) => !/^[a-z0-9.-]+$/.test(h))) {
    ctx.addIssue({ code: 'custom', message: 'comma-separated host names such as jobs.home.arpa,nas.local' });
    return z.NEVER;
  }
  return names;
});
export const prefix = str.regex(/^[A-Za-z0-9_{}.-]+$/, 'letters, digits, _ . - and an optional {hash tag}, no colons');
export const level = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
  message: 'one of fatal, error, warn, info, debug, trace, silent',
});

/**
 * Interval: a Go duration (at least 1s) or a 5/6-field cron expression evaluated in `tzName`, or a
 * rule. Durations and crons start with a digit or `*`; text that starts with a letter (`FREQ=…`,
 * `every day at 08:00`, `cron 0 8 * * *`) is a rule, read by the producer's triggers at start.
 */
export function parseInterval(variable: string, text: string, tzName: string): Interval {
  const form = `${DURATION_FORM} (at least 1s), a 5- or 6-field cron expression such as "*/5 * * * *", or an RRULE or English text such as "every day at 08:00"`;
  const t = text.trim();
  if (/^[A-Za-z]/.test(t)) return { rule: t };
  const fields = t.split(/\s+/);
  if (fields.length === 5 || fields.length === 6) {
    try {
      CronExpressionParser.parse(t, { tz: tzName, strict: false });
      return { pattern: t };
    } catch {
      throw new ConfigError(variable, text, form);
    }
  }
  const ms = parseDuration(t);
  if (ms === undefined || ms < 1000) throw new ConfigError(variable, text, form);
  return { every: ms };
}

/** OpenTelemetry's variables, in the forms the SDK accepts. */
export const tracesExporters = str
  .transform((v) => v.split(',').map((e) => e.trim()))
  .pipe(z.array(z.enum(['otlp', 'console', 'zipkin', 'none'], { error: 'otlp, console, zipkin or none (comma-separated)' })));
export const otlpProtocol = z.enum(['http/protobuf', 'http/json', 'grpc'], { error: 'http/protobuf, http/json or grpc' });
/** The samplers the Node SDK builds from OTEL_TRACES_SAMPLER; any other value it replaces silently. */
export const tracesSampler = z.enum(
  ['always_on', 'always_off', 'traceidratio', 'parentbased_always_on', 'parentbased_always_off', 'parentbased_traceidratio'],
  {
    error: 'always_on, always_off, traceidratio, parentbased_always_on, parentbased_always_off or parentbased_traceidratio',
  },
);
/** OTLP headers: `key=value` pairs, comma-separated, values URL-encoded; the SDK drops a malformed pair silently. */
export const otlpHeaders = str.refine(
  (s) =>
    s.split(',').every((pair) => {
      const at = pair.indexOf('=');
      if (at < 1 || !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(pair.slice(0, at).trim())) return false;
      try {
        return decodeURIComponent(pair.slice(at + 1).trim()) !== '';
      } catch {
        return false;
      }
    }),
  'comma-separated key=value pairs, values URL-encoded, such as Authorization=Bearer%20abc,x-team=jobs',
);

/** `auto`, or a number of jobs (0: no window). */
export const fanoutWindow = str.transform((s, ctx): number | 'auto' => {
  const v = s.trim().toLowerCase();
  if (v === 'auto') return 'auto';
  const n = Number(v);
  if (Number.isInteger(n) && n >= 0 && n <= 100_000_000) return n;
  ctx.addIssue({ code: 'custom', message: 'auto, or a whole number of jobs from 0 (no window) to 100000000' });
  return z.NEVER;
});
