/**
 * A worker fetches a few jobs ahead of its slots, so the next job is there when a handler ends
 * (src/workers/slot-gate.ts): the concurrency cap still holds for what runs, and a job that finds no
 * slot in time goes back to the queue without counting as a start.
 */
import type { Worker } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { queueKey } from '../src/redis/keys.js';
import { createRegistry, registerProcessMetrics } from '../src/web/metrics.js';
import { extraFor, MOST_WAIT_MS, mostExtra, SlotGate } from '../src/workers/slot-gate.js';
import { addOwned, itemCatalog } from './helpers/fair.js';
import { consumeKinds, deferred } from './helpers/handlers.js';
import { capturingLogger } from './helpers/harness.js';
import { useHarnesses } from './helpers/in-process.js';
import { waitFor } from './helpers/wait-for.js';

const { h: harnessOf } = useHarnesses();

describe('the slot gate', () => {
  it('lets `concurrency` in, the next one as a slot is left, and gives up on a wait past the bound', async () => {
    const gate = new SlotGate(2, () => {});
    expect(gate.enter('j')).toBe(true);
    expect(gate.enter('j')).toBe(true);
    const third = gate.enter('j');
    const fourth = gate.enter('j');
    expect(gate.waiting()).toBe(2);
    gate.leave('a', 0);
    await expect(third).resolves.toBe(true);
    const t0 = performance.now();
    await expect(fourth).resolves.toBe(false);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(MOST_WAIT_MS - 50);
    gate.close();
  });

  it('gives every waiter back at close, and any that comes after', async () => {
    const gate = new SlotGate(1, () => {});
    expect(gate.enter('j')).toBe(true);
    const waiting = gate.enter('j');
    gate.close();
    await expect(waiting).resolves.toBe(false);
    await expect(gate.enter('j')).resolves.toBe(false);
  });

  it('fetches none ahead at once when a job was given back, whenever the last change was', () => {
    const told: number[] = [];
    const gate = new SlotGate(50, (extra) => told.push(extra));
    expect(gate.extra).toBe(10);
    gate.gaveBack();
    expect(gate.extra).toBe(0);
    expect(told).toEqual([0]);
  });

  it('measures slots by the jobs whose outcome was stored, not by jobs put back at once (an exclusivity delay)', () => {
    let now = 100_000;
    const told: number[] = [];
    const gate = new SlotGate(
      50,
      (extra) => told.push(extra),
      () => now,
    );
    // Jobs of 10 s, whose results take 20 ms to be stored: the round trip hardly matters.
    const long = (id: string) => {
      gate.leave(id, now - 10_000);
      now += 20;
      gate.reported(id);
    };
    for (let i = 0; i < 10; i++) long(`long-${i}`);
    // Jobs delayed by their group leave their slot at once, and BullMQ reports no outcome for them.
    for (let i = 0; i < 200; i++) gate.leave(`delayed-${i}`, now - 0.5);
    now += 2_000;
    long('long-last');
    expect(gate.extra).toBe(0);
    // A delayed job comes back under the same id: its earlier, measured run is no outcome of this one.
    for (let i = 0; i < 20; i++) {
      gate.leave(`back-${i}`, now - 0.5);
      now += 300;
      gate.leave(`back-${i}`, 0);
      gate.reported(`back-${i}`);
    }
    long('long-after');
    expect(told).toEqual([0]);
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
    const h = await harnessOf({}, { catalog: itemCatalog({ track: { concurrency: 10, fair: false } }) });
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
    const h = await harnessOf({}, { catalog: itemCatalog({ track: { concurrency: 5, fair: false } }) });
    const release = deferred();
    // BullMQ's event stream says when a job went from active back to waiting.
    const givenBack = async () => {
      const entries = await h.conn.xrange(queueKey(h.prefix, 'track', 'events'), '-', '+');
      return entries.flatMap(([, f]) => (f[1] === 'waiting' && f[5] === 'active' ? [f[3]] : []));
    };
    const ids = await addOwned(h, 'track', 'a', 6);
    const c = consumeKinds(h, { track: () => release.promise.then(() => null) }, ['track']);
    const last = ids[5] as string;
    await waitFor('the 6th job given back', async () => (await givenBack()).includes(last));
    release.resolve();
    const job = queueKey(h.prefix, 'track', last);
    await waitFor('the 6th job done', async () => (await h.conn.hget(job, 'finishedOn')) !== null);
    expect(await h.conn.hget(job, 'ats')).toBe('1');
    expect(await h.conn.hget(job, 'atm')).toBe('1');
    // An operator sees it: the worker's metrics count the job given back.
    const registry = createRegistry();
    registerProcessMetrics(
      registry,
      'worker',
      async () => ({ ready: true }),
      () => c.slots(),
    );
    const given = (await registry.getSingleMetric('spotter_jobs_worker_jobs_given_back_total')?.get())?.values;
    expect(given).toEqual([{ labels: { queue: 'track' }, value: 1 }]);
    const held = (await registry.getSingleMetric('spotter_jobs_worker_jobs_held_ahead')?.get())?.values;
    expect(held).toEqual([{ labels: { queue: 'track' }, value: 0 }]);
  });

  it('gives the jobs still waiting for a slot back when it closes, and runs none of them', async () => {
    const h = await harnessOf({}, { catalog: itemCatalog({ track: { concurrency: 5, fair: false } }) });
    const release = deferred();
    const ran: string[] = [];
    const ids = await addOwned(h, 'track', 'a', 6);
    const run = (item: { id: string }) => {
      ran.push(item.id);
      return release.promise.then(() => null);
    };
    const c = consumeKinds(h, { track: run }, ['track']);
    const active = queueKey(h.prefix, 'track', 'active');
    await waitFor('6 jobs held, 5 running', async () => (await h.conn.llen(active)) === 6 && ran.length === 5);
    expect(c.slots()).toEqual([{ queue: 'track', busy: 5, concurrency: 5, heldAhead: 1, givenBack: 0 }]);
    // The running jobs end right after the close begins: a slot frees long before the wait's bound.
    const closed = c.close();
    release.resolve();
    await closed;
    expect(await h.conn.lrange(queueKey(h.prefix, 'track', 'wait'), 0, -1)).toEqual([ids[5]]);
    expect(ran).toHaveLength(5);
    expect(ran).not.toContain('a-5');
  });

  it('does not start a job whose lock was lost while it waited for a slot, nor count a failure', async () => {
    const { log, lines } = capturingLogger('warn');
    const h = await harnessOf({}, { log, catalog: itemCatalog({ track: { concurrency: 5, fair: false } }) });
    const first = deferred();
    const rest = deferred();
    const ran: string[] = [];
    const ids = await addOwned(h, 'track', 'a', 6);
    const run = (item: { id: string }) => {
      ran.push(item.id);
      return (item.id === 'a-0' ? first.promise : rest.promise).then(() => null);
    };
    const c = consumeKinds(h, { track: run }, ['track']);
    const active = queueKey(h.prefix, 'track', 'active');
    await waitFor('6 jobs held, 5 running', async () => (await h.conn.llen(active)) === 6 && ran.length === 5);
    // Another worker's stalled check took the job: its lock is gone, and BullMQ's renewal says so
    // (said here at once; with the default lock it would come only after a second).
    const last = ids[5] as string;
    const job = queueKey(h.prefix, 'track', last);
    await h.conn.del(`${job}:lock`);
    const worker = (c as unknown as { workers: Map<string, Worker> }).workers.get('track') as Worker;
    worker.emit('lockRenewalFailed', [last]);
    first.resolve();
    await waitFor('its outcome refused for the lost lock', () =>
      lines.some((l) => l.jobId === last && /lost the lock/.test(String(l.msg))),
    );
    rest.resolve();
    expect(ran).not.toContain('a-5');
    expect(await h.conn.hget(job, 'failedReason')).toBeNull();
    expect(await h.conn.hget(job, 'atm')).toBeNull();
  });

  it('holds none ahead with SPOTTER_JOBS_FETCH_AHEAD=false', async () => {
    const h = await harnessOf({ SPOTTER_JOBS_FETCH_AHEAD: 'false' }, { catalog: itemCatalog({ track: { concurrency: 5, fair: false } }) });
    const release = deferred();
    const ran: string[] = [];
    await addOwned(h, 'track', 'a', 6);
    const run = (item: { id: string }) => {
      ran.push(item.id);
      return release.promise.then(() => null);
    };
    consumeKinds(h, { track: run }, ['track']);
    const active = queueKey(h.prefix, 'track', 'active');
    await waitFor('5 running', () => ran.length === 5);
    expect(await h.conn.llen(active)).toBe(5);
    expect(await h.conn.llen(queueKey(h.prefix, 'track', 'wait'))).toBe(1);
    release.resolve();
    await waitFor('all 6 done', () => ran.length === 6);
  });
});
