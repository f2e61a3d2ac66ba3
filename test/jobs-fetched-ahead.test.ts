/**
 * A worker fetches a few jobs ahead of its slots, so the next job is there when a handler ends
 * (src/workers/slot-gate.ts): the concurrency cap still holds for what runs, and a job that finds no
 * slot in time goes back to the queue without counting as a start.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { queueKey } from '../src/redis/keys.js';
import { extraFor, MOST_WAIT_MS, mostExtra, SlotGate } from '../src/workers/slot-gate.js';
import { addOwned, itemCatalog } from './helpers/fair.js';
import { consumeKinds, deferred } from './helpers/handlers.js';
import { type Harness, harness } from './helpers/harness.js';
import { waitFor } from './helpers/wait-for.js';

let x: Harness | undefined;
afterEach(async () => {
  await x?.dispose();
  x = undefined;
});

describe('the slot gate', () => {
  it('lets `concurrency` in, the next one as a slot is left, and gives up on a wait past the bound', async () => {
    const gate = new SlotGate(2, () => {});
    expect(gate.enter()).toBe(true);
    expect(gate.enter()).toBe(true);
    const third = gate.enter();
    const fourth = gate.enter();
    expect(gate.waiting()).toBe(2);
    gate.leave('a', 10);
    await expect(third).resolves.toBe(true);
    const t0 = performance.now();
    await expect(fourth).resolves.toBe(false);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(MOST_WAIT_MS - 50);
    gate.close();
  });

  it('gives every waiter back at close, and any that comes after', async () => {
    const gate = new SlotGate(1, () => {});
    expect(gate.enter()).toBe(true);
    const waiting = gate.enter();
    gate.close();
    await expect(waiting).resolves.toBe(false);
    await expect(gate.enter()).resolves.toBe(false);
  });

  it('fetches ahead a fifth of the concurrency at most, and none for jobs much longer than the round trip', () => {
    expect(mostExtra(50)).toBe(10);
    expect(extraFor(50, 3, 20)).toBe(10);
    expect(extraFor(50, 1, 100)).toBe(2);
    expect(extraFor(50, 3, 10_000)).toBe(0);
    expect(extraFor(4, 3, 20)).toBe(0);
  });
});

describe('a worker fetching ahead', () => {
  it('holds more jobs than its concurrency while running no more than it', async () => {
    x = await harness({}, { catalog: itemCatalog({ track: { concurrency: 10, fair: false } }) });
    const h = x;
    const active = queueKey(h.prefix, 'track', 'active');
    let running = 0;
    let mostRunning = 0;
    let mostHeld = 0;
    let done = 0;
    const run = async () => {
      running++;
      mostRunning = Math.max(mostRunning, running);
      mostHeld = Math.max(mostHeld, await h.conn.llen(active));
      await new Promise((r) => setTimeout(r, 20));
      running--;
      done++;
      return null;
    };
    await addOwned(h, 'track', 'a', 60);
    consumeKinds(h, { track: run }, ['track']);
    await waitFor(
      () => `60 done (${done})`,
      () => done === 60,
    );
    expect(mostRunning).toBe(10);
    expect(mostHeld).toBeGreaterThan(10);
    expect(mostHeld).toBeLessThanOrEqual(10 + mostExtra(10));
  });

  it('gives a job back to the queue when no slot came in time, and does not count that as a start', async () => {
    x = await harness({}, { catalog: itemCatalog({ track: { concurrency: 5, fair: false } }) });
    const h = x;
    const release = deferred();
    // BullMQ's event stream says when a job went from active back to waiting.
    const givenBack = async () => {
      const entries = await h.conn.xrange(queueKey(h.prefix, 'track', 'events'), '-', '+');
      return entries.flatMap(([, f]) => (f[1] === 'waiting' && f[5] === 'active' ? [f[3]] : []));
    };
    const ids = await addOwned(h, 'track', 'a', 6);
    consumeKinds(h, { track: () => release.promise.then(() => null) }, ['track']);
    const last = ids[5] as string;
    await waitFor('the 6th job given back', async () => (await givenBack()).includes(last));
    release.resolve();
    const job = queueKey(h.prefix, 'track', last);
    await waitFor('the 6th job done', async () => (await h.conn.hget(job, 'finishedOn')) !== null);
    expect(await h.conn.hget(job, 'ats')).toBe('1');
    expect(await h.conn.hget(job, 'atm')).toBe('1');
  });
});
