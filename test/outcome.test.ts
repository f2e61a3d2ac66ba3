import { UnrecoverableError } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { InvalidJobError, PermanentError, RetryAfterError } from '../src/jobs/errors.js';
import { backoffDelay, decide } from '../src/jobs/outcome.js';

const base = { maxAttempts: 5, backoffMs: 1000 };

describe('decide: the thrown error decides the job', () => {
  it('retries an ordinary error with exponential backoff', () => {
    expect(decide(new Error('x'), { ...base, attempt: 1, random: () => 0 })).toEqual({ kind: 'retry', delayMs: 500 });
    expect(decide(new Error('x'), { ...base, attempt: 3, random: () => 1 })).toEqual({ kind: 'retry', delayMs: 4000 });
  });

  it('dead-letters a PermanentError at once, whatever the attempt', () => {
    const o = decide(new PermanentError('account closed'), { ...base, attempt: 1 });
    expect(o).toEqual({ kind: 'dead-letter', reason: 'permanent: account closed' });
  });

  it("dead-letters BullMQ's UnrecoverableError at once instead of retrying it", () => {
    expect(decide(new UnrecoverableError('no such track'), { ...base, attempt: 1 })).toEqual({
      kind: 'dead-letter',
      reason: 'permanent: no such track',
    });
  });

  it('dead-letters an invalid job at once with its own reason', () => {
    expect(decide(new InvalidJobError('invalid job data: userId: required'), { ...base, attempt: 1 })).toEqual({
      kind: 'dead-letter',
      reason: 'invalid job data: userId: required',
    });
  });

  it('recognises a PermanentError by name, for modules that cannot import the class', () => {
    const e = Object.assign(new Error('gone'), { name: 'PermanentError' });
    expect(decide(e, { ...base, attempt: 1 }).kind).toBe('dead-letter');
  });

  it('dead-letters when attempts are exhausted, saying so', () => {
    const o = decide(new Error('timeout'), { ...base, attempt: 5 });
    expect(o).toEqual({ kind: 'dead-letter', reason: 'attempts exhausted (5/5): timeout' });
  });

  it('retries after Retry-After when the error carries it', () => {
    expect(decide(new RetryAfterError('429', 7000), { ...base, attempt: 2 })).toEqual({ kind: 'retry', delayMs: 7000 });
  });

  it('still dead-letters a Retry-After error on the last attempt', () => {
    expect(decide(new RetryAfterError('429', 7000), { ...base, attempt: 5 }).kind).toBe('dead-letter');
  });

  it('handles non-Error throws', () => {
    expect(decide('boom', { ...base, attempt: 5 })).toEqual({ kind: 'dead-letter', reason: 'attempts exhausted (5/5): boom' });
  });
});

describe('decide: no delay past the cap', () => {
  const capped = { ...base, maxRetryDelayMs: 3_600_000, random: () => 0 };
  const year9999 = Date.UTC(9999, 11, 31, 23, 59, 59) - Date.now();

  it('counts a Retry-After beyond the cap as a failed attempt, retried with backoff, naming the cap', () => {
    const o = decide(new RetryAfterError('429', year9999), { ...capped, attempt: 1 });
    expect(o).toMatchObject({ kind: 'retry', delayMs: 500 });
    expect(o.kind === 'retry' && o.reason).toMatch(
      /^429 \(Retry-After \d+h.* is over the 1h cap on a retry delay; counted as a failed attempt\)$/,
    );
  });

  it('dead-letters it once the attempts are used, the reason naming the cap', () => {
    const o = decide(new RetryAfterError('429', year9999), { ...capped, attempt: 5 });
    expect(o).toMatchObject({ kind: 'dead-letter' });
    expect(o.kind === 'dead-letter' && o.reason).toMatch(/^attempts exhausted \(5\/5\): 429 \(Retry-After .* over the 1h cap/);
  });

  it('honours a Retry-After up to the cap as before', () => {
    expect(decide(new RetryAfterError('429', 3_600_000), { ...capped, attempt: 1 })).toEqual({ kind: 'retry', delayMs: 3_600_000 });
  });

  it('stops exponential backoff at the cap, even at attempt 1000', () => {
    for (const attempt of [20, 999, 1000]) {
      const o = decide(new Error('x'), { ...capped, maxAttempts: 1000, attempt: attempt - 1, random: () => 1 });
      expect(o).toEqual({ kind: 'retry', delayMs: 3_600_000 });
    }
  });
});

describe('backoffDelay', () => {
  it('doubles per attempt and jitters within [half, full]', () => {
    for (let attempt = 1; attempt <= 6; attempt++) {
      const full = 30_000 * 2 ** (attempt - 1);
      for (let i = 0; i < 50; i++) {
        const d = backoffDelay(attempt, 30_000);
        expect(d).toBeGreaterThanOrEqual(full / 2);
        expect(d).toBeLessThanOrEqual(full);
      }
    }
  });

  it('spreads retries: 100 delays for the same attempt are not all equal', () => {
    const delays = new Set(Array.from({ length: 100 }, () => backoffDelay(2, 30_000)));
    expect(delays.size).toBeGreaterThan(50);
  });
});

describe('decide: whatever a handler throws', () => {
  const a = { attempt: 1, maxAttempts: 5, backoffMs: 1000 };
  it('treats a plain object named PermanentError as permanent, as the docs promise', () => {
    expect(decide({ name: 'PermanentError', message: 'account closed' }, a)).toEqual({
      kind: 'dead-letter',
      reason: 'permanent: account closed',
    });
    expect(decide({ name: 'PermanentError' }, a).kind).toBe('dead-letter');
  });
  it('renders non-Error throws readably, never as [object Object]', () => {
    const o = decide({ code: 42, why: 'quota' }, { ...a, attempt: 5 });
    expect(o).toEqual({ kind: 'dead-letter', reason: 'attempts exhausted (5/5): {"code":42,"why":"quota"}' });
    expect(decide('plain string', { ...a, attempt: 5 })).toMatchObject({ reason: 'attempts exhausted (5/5): plain string' });
    expect(decide(undefined, { ...a, attempt: 5 })).toMatchObject({ reason: 'attempts exhausted (5/5): undefined' });
  });
});
