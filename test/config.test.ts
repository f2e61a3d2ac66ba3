import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration } from '../src/config/duration.js';
import { loadConfig } from '../src/config/load.js';
import { configError } from './helpers/config-error.js';

describe('Go durations', () => {
  it.each([
    ['250ms', 250],
    ['30s', 30_000],
    ['5m', 300_000],
    ['1h30m', 5_400_000],
    ['2h', 7_200_000],
    ['1.5h', 5_400_000],
    ['1m30s500ms', 90_500],
    ['0', 0],
  ])('parses %s', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['', '5', '7d', '5 m', 'm5', '1h-30m', '-5m', '1H', 'five minutes', '1h30', '5mm'])('refuses %j', (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });

  it('formats back to a Go-style duration', () => {
    expect(formatDuration(5_400_000)).toBe('1h30m');
    expect(formatDuration(1_250)).toBe('1s250ms');
  });
});

describe('loadConfig', () => {
  it('works with no configuration at all, with the documented defaults', () => {
    const c = loadConfig({});
    expect(c.redisUrl).toBe('redis://127.0.0.1:6379');
    expect(c.redisUrlSet).toBe(false);
    expect(c.prefix).toBe('spotter');
    expect(c.kinds.sync?.schedule?.interval).toEqual({ every: 300_000 });
    expect(c.kinds.enrichment?.schedule?.interval).toEqual({ every: 3_600_000 });
    expect(c.kinds['write-back']?.schedule?.interval).toEqual({ every: 3_600_000 });
    expect([c.kinds.sync?.schedule?.offsetMs, c.kinds.enrichment?.schedule?.offsetMs, c.kinds['write-back']?.schedule?.offsetMs]).toEqual([
      0, 30_000, 60_000,
    ]);
    expect([c.kinds.sync?.concurrency, c.kinds.enrichment?.concurrency, c.kinds['write-back']?.concurrency]).toEqual([10, 5, 5]);
    expect(c.kinds.sync?.attempts).toBe(5);
    expect(c.backoffMs).toBe(30_000);
    expect(c.lockDurationMs).toBe(30_000);
    expect(c.stalledIntervalMs).toBe(30_000);
    expect(c.shutdownTimeoutMs).toBe(25_000);
    expect(c.retention).toMatchObject({ completedAgeMs: 86_400_000, completedCount: 10_000, failedAgeMs: 7 * 86_400_000 });
    expect(c.handlers).toEqual({ kind: 'demo', users: 25, failureRate: 0.05 });
    expect(c.http).toMatchObject({ host: '127.0.0.1', port: 3000, workerPort: 3001 });
    expect(c.fanoutPage).toBe(1000);
  });

  it("keeps Spotter's own variable names", () => {
    const c = loadConfig({
      SPOTTER_SYNC_INTERVAL: '2m',
      SPOTTER_METADATA_INTERVAL: '1h30m',
      SPOTTER_PLAYLIST_SYNC_SYNC_INTERVAL: '45m',
      SPOTTER_METADATA_ENABLED: 'false',
    });
    expect(c.kinds.sync?.schedule?.interval).toEqual({ every: 120_000 });
    expect(c.kinds.enrichment?.schedule?.interval).toEqual({ every: 5_400_000 });
    expect(c.kinds.enrichment?.schedule?.enabled).toBe(false);
    expect(c.kinds['write-back']?.schedule?.interval).toEqual({ every: 2_700_000 });
  });

  it('accepts 5- and 6-field cron expressions, checked in SPOTTER_JOBS_TZ', () => {
    const c = loadConfig({
      SPOTTER_SYNC_INTERVAL: '*/5 * * * *',
      SPOTTER_METADATA_INTERVAL: '0 0 3 * * *',
      SPOTTER_JOBS_TZ: 'Europe/Berlin',
    });
    expect(c.kinds.sync?.schedule?.interval).toEqual({ pattern: '*/5 * * * *' });
    expect(c.kinds.enrichment?.schedule?.interval).toEqual({ pattern: '0 0 3 * * *' });
    expect(c.tz).toBe('Europe/Berlin');
  });

  it('reads booleans, integers, rates and per-queue overrides', () => {
    const c = loadConfig({
      SPOTTER_JOBS_SYNC_ENABLED: 'no',
      SPOTTER_JOBS_WRITEBACK_ENABLED: '1',
      SPOTTER_JOBS_SYNC_CONCURRENCY: '3',
      SPOTTER_JOBS_SYNC_GLOBAL_CONCURRENCY: '7',
      SPOTTER_JOBS_ENRICHMENT_RATE_LIMIT: '1/1s',
      SPOTTER_JOBS_ATTEMPTS: '4',
      SPOTTER_JOBS_WRITEBACK_ATTEMPTS: '2',
    });
    expect(c.kinds.sync?.schedule?.enabled).toBe(false);
    expect(c.kinds['write-back']?.schedule?.enabled).toBe(true);
    expect(c.kinds.sync).toMatchObject({ concurrency: 3, globalConcurrency: 7, attempts: 4 });
    expect(c.kinds.enrichment?.rateLimit).toEqual({ max: 1, durationMs: 1000 });
    expect(c.kinds['write-back']?.attempts).toBe(2);
  });

  it('picks exactly one handler mode', () => {
    expect(loadConfig({ SPOTTER_URL: 'http://spotter:8080/', SPOTTER_JOBS_SECRET: 's3cret' }).handlers).toEqual({
      kind: 'http',
      url: 'http://spotter:8080',
      secrets: ['s3cret'],
    });
    expect(loadConfig({ SPOTTER_JOBS_HANDLERS: './h.mjs' }).handlers).toEqual({ kind: 'module', path: './h.mjs' });
    expect(configError({ SPOTTER_URL: 'http://x', SPOTTER_JOBS_HANDLERS: './h.mjs' }).variable).toBe('SPOTTER_JOBS_HANDLERS');
  });

  it('is frozen', () => {
    const c = loadConfig({});
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(c.kinds.sync)).toBe(true);
  });

  it.each([
    ['SPOTTER_SYNC_INTERVAL', '5', 'Go duration'],
    ['SPOTTER_SYNC_INTERVAL', '7d', 'cron'],
    ['SPOTTER_SYNC_INTERVAL', '100ms', 'at least 1s'],
    ['SPOTTER_METADATA_INTERVAL', '61 * * * *', 'cron'],
    ['SPOTTER_JOBS_TZ', 'Mars/Olympus', 'IANA'],
    ['SPOTTER_JOBS_SYNC_ENABLED', 'maybe', 'true or false'],
    ['SPOTTER_JOBS_SYNC_CONCURRENCY', '0', 'whole number'],
    ['SPOTTER_JOBS_SYNC_CONCURRENCY', '2.5', 'whole number'],
    ['SPOTTER_JOBS_SYNC_RATE_LIMIT', '10 per second', '<max>/<duration>'],
    ['SPOTTER_JOBS_BACKOFF', '30', 'Go duration'],
    ['SPOTTER_JOBS_DEMO_FAILURE_RATE', '5%', 'from 0 to 1'],
    ['REDIS_URL', 'http://localhost:6379', 'redis://'],
    ['SPOTTER_URL', 'spotter:8080', 'http://'],
    ['SPOTTER_JOBS_PREFIX', 'a:b', 'no colons'],
    ['SPOTTER_JOBS_ENRICHMENT_OFFSET', '2h', 'shorter than the interval'],
    ['SPOTTER_JOBS_LOG_LEVEL', 'loud', 'one of'],
  ])('refuses %s=%j naming the variable, the value and the form', (variable, value, form) => {
    const err = configError({ [variable]: value });
    expect(err.variable).toBe(variable);
    expect(err.value).toBe(value);
    expect(err.message).toContain(variable);
    expect(err.message).toContain(JSON.stringify(value));
    expect(err.message).toContain(form);
  });
});
