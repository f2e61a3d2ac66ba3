/** Owners' weights in fair admission: 2:1 weights give about 2:1 starts; weights are checked. */
import { afterEach, describe, expect, it } from 'vitest';
import { InvalidJobError } from '../src/jobs/errors.js';
import { ownerWeight, setOwnerWeight } from '../src/jobs/fair-weights.js';
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

describe('owner weights', () => {
  it('give an owner of weight 2 about twice the starts of an owner of weight 1 while both have work', async () => {
    x = await harness({}, { catalog });
    const h = x;
    await setOwnerWeight(h.conn, h.prefix, 'heavy', 2, fairKinds(h));
    await addOwned(h, 'track', 'heavy', 200);
    await addOwned(h, 'track', 'light', 200);
    const rec = recorder(1);
    consumeKinds(h, { track: rec.run }, ['track']);
    await waitFor('150 starts', () => rec.starts.length >= 151);
    // The first start was admitted before the light owner had work.
    const window = rec.starts.slice(1, 151);
    const heavy = window.filter((s) => s.owner === 'heavy').length;
    const light = window.filter((s) => s.owner === 'light').length;
    expect(heavy + light).toBe(150);
    expect(heavy / light).toBeGreaterThan(1.7);
    expect(heavy / light).toBeLessThan(2.3);
  });

  it('are equal by default, and a weight set back to 1 removes it', async () => {
    x = await harness({}, { catalog });
    const h = x;
    await addOwned(h, 'track', 'a', 60);
    await addOwned(h, 'track', 'b', 60);
    const rec = recorder(1);
    consumeKinds(h, { track: rec.run }, ['track']);
    await waitFor('61 starts', () => rec.starts.length >= 61);
    const a = rec.starts.slice(1, 61).filter((s) => s.owner === 'a').length;
    expect(a).toBeGreaterThanOrEqual(28);
    expect(a).toBeLessThanOrEqual(32);
    await setOwnerWeight(h.conn, h.prefix, 'a', 3, fairKinds(h));
    expect(await ownerWeight(h.conn, h.prefix, 'a')).toBe(3);
    await setOwnerWeight(h.conn, h.prefix, 'a', 1, fairKinds(h));
    expect(await h.conn.hlen(`${h.prefix}:spotter-jobs:owner-weights`)).toBe(0);
  });

  it.each([
    ['zero', 'u1', 0, /weight 0 is not a number from 0.01 to 10000/],
    ['too heavy', 'u1', 20_000, /weight 20000/],
    ['not a number', 'u1', Number.NaN, /weight NaN/],
    ['a bad owner id', 'a b', 2, /"a b" is not an owner id: it holds other than letters, digits and \. _ @ -/],
    ['an owner id too long', 'a'.repeat(201), 2, /"a{80}…" \(201 characters\) is not an owner id: it is longer than 200 characters/],
    ['an empty owner id', '', 2, /"" is not an owner id: it is empty/],
  ])('refuse %s', async (_what, owner, weight, message) => {
    x = await harness({}, { catalog });
    const err = await setOwnerWeight(x.conn, x.prefix, owner, weight, fairKinds(x)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidJobError);
    expect((err as Error).message).toMatch(message);
  });
});
