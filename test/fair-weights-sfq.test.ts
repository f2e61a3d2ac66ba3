/**
 * Weights in start-time fair queueing over time: an owner of weight below 1 that adds one job at a
 * time (its backlog empties after each) keeps to its weight's share, and a changed weight applies at
 * the next refill rather than after what the old weight earned.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { HandlerContext } from '../src/handlers/types.js';
import { setOwnerWeight } from '../src/jobs/fair-weights.js';
import { addOwned, fairKinds, itemCatalog, recorder } from './helpers/fair.js';
import { consumeKinds } from './helpers/handlers.js';
import { type Harness, harness } from './helpers/harness.js';
import { waitFor } from './helpers/wait-for.js';

let x: Harness | undefined;
afterEach(async () => {
  await x?.dispose();
  x = undefined;
});

const catalog = itemCatalog({ track: { concurrency: 1, fairWindow: 1 } });

describe('owner weights over time', () => {
  it('hold an owner of weight 0.01 that always has one job waiting to about 1 % against a flood', async () => {
    x = await harness({}, { catalog });
    const h = x;
    await setOwnerWeight(h.conn, h.prefix, 'low', 0.01, fairKinds(h));
    await addOwned(h, 'track', 'flood', 400);
    await addOwned(h, 'track', 'low', 1);
    const rec = recorder(1);
    let next = 1;
    // The low owner files its next job as each of its jobs starts: its backlog empties every time.
    const run = async (item: { id: string }, ctx: HandlerContext) => {
      if (ctx.owner === 'low') await addOwned(h, 'track', 'low', 1, next++);
      return rec.run(item as never, ctx);
    };
    consumeKinds(h, { track: run as never }, ['track']);
    await waitFor('301 starts', () => rec.starts.length >= 301);
    const owners = rec.starts.slice(0, 301).map((s) => s.owner);
    const low = owners.filter((o) => o === 'low').length;
    // 0.01 against 1: one start in about 101; 301 starts hold three or four, not one in two.
    expect(low).toBeGreaterThanOrEqual(2);
    expect(low).toBeLessThanOrEqual(5);
    // Never two low starts closer than its weight allows (100 of the flood's, less the window).
    const at = owners.flatMap((o, i) => (o === 'low' ? [i] : []));
    const gaps = at.slice(1).map((v, i) => v - (at[i] ?? 0));
    expect(Math.min(...gaps)).toBeGreaterThan(90);
  });

  it("keep an owner's finish tag while above the clock only, and drop it when the owner rejoins", async () => {
    x = await harness({}, { catalog });
    const h = x;
    const finish = `${h.prefix}:spotter-jobs:fair:track:finish`;
    await setOwnerWeight(h.conn, h.prefix, 'a', 2, fairKinds(h));
    // a's jobs due at 0, 0.5, … 2 (finish 2.5), b's at 0 … 4 (finish 5): the clock ends at 4.
    await addOwned(h, 'track', 'a', 5);
    await addOwned(h, 'track', 'b', 5);
    const rec = recorder(1);
    consumeKinds(h, { track: rec.run }, ['track']);
    await waitFor('ten starts', () => rec.starts.length >= 10);
    expect(rec.starts.at(-1)?.owner).toBe('b');
    expect(await h.conn.zrange(finish, 0, -1, 'WITHSCORES')).toEqual(['b', '5']);
    await addOwned(h, 'track', 'b', 1, 5);
    await waitFor('b rejoined', () => rec.starts.length >= 11);
    // It rejoined at its finish tag 5, not the clock 4: its one job moves it to 6.
    expect(await h.conn.zrange(finish, 0, -1, 'WITHSCORES')).toEqual(['b', '6']);
    await setOwnerWeight(h.conn, h.prefix, 'a', 1, fairKinds(h));
  });

  it('apply a raised weight at the next refill, not after the turns the old weight earned', async () => {
    x = await harness({}, { catalog });
    const h = x;
    await setOwnerWeight(h.conn, h.prefix, 'L', 0.01, fairKinds(h));
    await addOwned(h, 'track', 'L', 50);
    await addOwned(h, 'track', 'f', 400);
    const rec = recorder(1);
    consumeKinds(h, { track: rec.run }, ['track']);
    // L's first job moved it 100 of the flood's jobs on.
    await waitFor("L's first start", () => rec.starts.some((s) => s.owner === 'L'));
    await setOwnerWeight(h.conn, h.prefix, 'L', 10_000, fairKinds(h));
    const from = rec.starts.length;
    await waitFor('30 starts after the raise', () => rec.starts.length >= from + 30);
    const after = rec.starts.slice(from).map((s) => s.owner);
    // Before it: at most the job in the window, the one starting and one a refill had in hand.
    expect(after.indexOf('L')).toBeGreaterThanOrEqual(0);
    expect(after.indexOf('L')).toBeLessThanOrEqual(3);
    // Then 10,000 against 1: L's backlog goes first.
    const first = after.indexOf('L');
    expect(after.slice(first, first + 20).every((o) => o === 'L')).toBe(true);
  });

  it('put a reweighed owner at the clock (owners, parked) and drop its finish tag, and leave it be when the weight is unchanged', async () => {
    x = await harness({}, { catalog });
    const h = x;
    const P = `${h.prefix}:spotter-jobs:fair:track`;
    await setOwnerWeight(h.conn, h.prefix, 'a', 0.5, fairKinds(h));
    await h.conn.zadd(`${P}:owners`, 7, 'a');
    await h.conn.zadd(`${P}:parked`, 9, 'b');
    await h.conn.zadd(`${P}:finish`, 5, 'a', 8, 'b', 6, 'c');
    await h.conn.set(`${P}:clock`, '3');
    await setOwnerWeight(h.conn, h.prefix, 'a', 0.5, fairKinds(h));
    expect(await h.conn.zscore(`${P}:owners`, 'a')).toBe('7');
    expect(await h.conn.zscore(`${P}:finish`, 'a')).toBe('5');
    // A changed weight: the owner at the clock, its finish tag gone; the others as they were.
    await setOwnerWeight(h.conn, h.prefix, 'a', 1, fairKinds(h));
    expect(await h.conn.zscore(`${P}:owners`, 'a')).toBe('3');
    expect(await h.conn.zscore(`${P}:finish`, 'a')).toBeNull();
    expect(await h.conn.hexists(`${h.prefix}:spotter-jobs:owner-weights`, 'a')).toBe(0);
    await setOwnerWeight(h.conn, h.prefix, 'b', 4, fairKinds(h));
    expect(await h.conn.zscore(`${P}:parked`, 'b')).toBe('3');
    expect(await h.conn.zscore(`${P}:finish`, 'b')).toBeNull();
    expect(await h.conn.zscore(`${P}:finish`, 'c')).toBe('6');
    expect(await h.conn.zscore(`${P}:owners`, 'b')).toBeNull();
    await setOwnerWeight(h.conn, h.prefix, 'b', 1, fairKinds(h));
    await h.conn.del(`${P}:owners`, `${P}:parked`, `${P}:finish`, `${P}:clock`);
  });
});
