/**
 * Limits the configuration must refuse, and secrets it must keep: each test reproduces what a careless
 * or hostile operator tried.
 */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load.js';
import { redactUrl, secretsOf } from '../src/config/secrets.js';
import { configError } from './helpers/config-error.js';
import { redisUrl } from './helpers/redis.js';
import { runCli } from './helpers/spawn-cli.js';

describe('durations a timer cannot honour', () => {
  it.each([
    ['SPOTTER_JOBS_RETENTION_INTERVAL', '1000h'],
    ['SPOTTER_JOBS_SHUTDOWN_TIMEOUT', '1000h'],
    ['SPOTTER_JOBS_SYNC_TIMEOUT', '1000h'],
    ['SPOTTER_JOBS_LOCK_DURATION', '597h'],
    ['SPOTTER_JOBS_STALLED_INTERVAL', '1000h'],
    ['SPOTTER_JOBS_BACKOFF', '1000h'],
    ['SPOTTER_JOBS_SYNC_BACKOFF', '1000h'],
  ])('refuses %s=%s with the maximum', (variable, value) => {
    const err = configError({ [variable]: value });
    expect(err.variable).toBe(variable);
    expect(err.message).toContain('at most 596h31m23s647ms');
  });
  it('still takes long retention ages: they are compared with timestamps, not timers', () => {
    expect(loadConfig({ SPOTTER_JOBS_FAILED_RETENTION: '2160h' }).retention.failedAgeMs).toBe(2160 * 3_600_000);
  });
});

describe('the Redis database', () => {
  it.each(['redis://127.0.0.1:6379/abc', 'redis://127.0.0.1:6379/-1', 'redis://127.0.0.1:6379/1/2', 'redis://127.0.0.1:6379/1.5'])(
    'refuses %s',
    (url) => {
      expect(configError({ REDIS_URL: url }).variable).toBe('REDIS_URL');
    },
  );
  it('takes a database number', () => {
    expect(loadConfig({ REDIS_URL: 'redis://127.0.0.1:6379/3' }).redisUrl).toBe('redis://127.0.0.1:6379/3');
  });
  it('exits 78 for a database the server does not have, instead of silently using db 0', async () => {
    const u = new URL(redisUrl());
    u.pathname = '/99';
    const r = await runCli(['status'], { REDIS_URL: u.toString() });
    expect(r.code, r.stderr).toBe(78);
    expect(r.stderr).toMatch(/REDIS_URL.*database 99/);
  });
});

describe('misspelled variables', () => {
  it('refuses an unknown SPOTTER_JOBS_ variable, naming the closest known one', () => {
    const err = configError({ SPOTTER_JOBS_SYNC_CONCURENCY: '3' });
    expect(err.variable).toBe('SPOTTER_JOBS_SYNC_CONCURENCY');
    expect(err.message).toContain('SPOTTER_JOBS_SYNC_CONCURRENCY');
  });
  it('knows every per-kind variable of the catalog, and the compose-only board port', () => {
    expect(() =>
      loadConfig({ SPOTTER_JOBS_SYNC_BACKOFF: '1s', SPOTTER_JOBS_WRITEBACK_COMPLETED_KEEP: '5', SPOTTER_JOBS_BOARD_PORT: '3000' }),
    ).not.toThrow();
  });
  it('leaves other prefixes alone', () => {
    expect(() => loadConfig({ SPOTTER_SOMETHING_ELSE: 'x', SPOTTER_JOBSX: 'y' })).not.toThrow();
  });
});

describe('secrets in configuration', () => {
  it('masks the REDIS_URL password in its configuration error', () => {
    const err = configError({ REDIS_URL: 'redis://:hunter22secret@127.0.0.1:6379/abc' });
    expect(err.message).not.toContain('hunter22secret');
    expect(err.message).toContain('***');
  });
  it('treats a SPOTTER_URL password as a secret, and masks it in the URL', () => {
    const c = loadConfig({ SPOTTER_URL: 'http://jobs:pa55word-xyz@spotter:8080' });
    expect(secretsOf(c)).toContain('pa55word-xyz');
    expect(redactUrl('http://jobs:pa55word-xyz@spotter:8080/')).toBe('http://jobs:***@spotter:8080/');
  });
  it('refuses SPOTTER_JOBS_SECRET_PREVIOUS without SPOTTER_JOBS_SECRET, in any mode', () => {
    expect(configError({ SPOTTER_JOBS_SECRET_PREVIOUS: 'old-secret' }).variable).toBe('SPOTTER_JOBS_SECRET');
  });
  it('refuses a board user containing a colon', () => {
    expect(configError({ SPOTTER_JOBS_BOARD_USER: 'ad:min' }).variable).toBe('SPOTTER_JOBS_BOARD_USER');
  });
});

describe('a completed retention of zero', () => {
  // User history files records by periods as long as the longest completed retention: 0 made the
  // period 0, the history key end in `Infinity` and its expiry NaN.
  it.each(['SPOTTER_JOBS_COMPLETED_RETENTION', 'SPOTTER_JOBS_SYNC_COMPLETED_RETENTION'])('is refused in %s, naming it', (variable) => {
    const err = configError({ [variable]: '0' });
    expect(err.variable).toBe(variable);
    expect(err.message).toMatch(/at least 1s/);
  });
  it('still takes one second', () => {
    expect(loadConfig({ SPOTTER_JOBS_COMPLETED_RETENTION: '1s' }).retention.completedAgeMs).toBe(1000);
  });
});
