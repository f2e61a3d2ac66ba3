/**
 * The exclusivity group's lane: a kind alone in its group runs
 * without a Redis call per job, and hands the group over safely when another kind arrives or when
 * a process dies in the lane. Two Exclusivity objects on their own connections play two processes.
 */
import type { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { Exclusivity, type Hold } from '../src/workers/exclusivity.js';
import { deletePrefix, newPrefix, testRedis } from './helpers/redis.js';
import { waitFor } from './helpers/wait-for.js';

const G = 'playlists';
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function twoProcesses(ttlMs: number) {
  const prefix = newPrefix();
  const conns: Redis[] = [testRedis(), testRedis(), testRedis()];
  const [probe, ca, cb] = conns as [Redis, Redis, Redis];
  const a = new Exclusivity(ca, prefix, ttlMs);
  const b = new Exclusivity(cb, prefix, ttlMs);
  cleanups.push(async () => {
    await Promise.all([a.close(), b.close()]);
    await deletePrefix(probe, prefix);
    for (const c of conns) c.disconnect();
  });
  return { prefix, probe, a, b, ca };
}

/** Asks until the job may run (a refused job is retried by the worker the same way, a moment later). */
async function entered(x: Exclusivity, kind: string, user: string, job: string): Promise<Hold> {
  return waitFor(`${kind} ${job} runs for ${user}`, async () => x.enter(G, kind, user, job));
}

describe("the exclusivity group's lane", () => {
  it('a kind alone runs without per-user keys; another kind waits for its running jobs, then both use keys', async () => {
    const { probe, a, b } = twoProcesses(3000);
    // The first job comes before any lease: it takes its user's key.
    const first = await a.enter(G, 'sync', 'u1', 'j1');
    expect(first).toBeDefined();
    // The key names the run that holds it: the job id, then this process and run.
    expect(await probe.get(a.key(G, 'u1'))).toMatch(/^j1#/);
    await (first as Hold).release();
    await waitFor('sync alone in the group takes the lane', () => a.laneOpen(G, 'sync'));

    // In the lane: answered at once, without a promise, and no key is written.
    const laneJob = a.enter(G, 'sync', 'u2', 'j2');
    expect(laneJob).toBeDefined();
    expect(laneJob).not.toBeInstanceOf(Promise);
    expect(await probe.exists(a.key(G, 'u2'))).toBe(0);

    // Write-back in another process is refused for every user while the lane is sync's.
    expect(await b.enter(G, 'write-back', 'u2', 'w2')).toBeUndefined();
    expect(await b.enter(G, 'write-back', 'u3', 'w3')).toBeUndefined();
    // Sync sees it at its next renewal and starts no lane job from then on.
    await waitFor('the lane closes to new sync jobs', () => !a.laneOpen(G, 'sync'));
    const keyed = await a.enter(G, 'sync', 'u4', 'j4');
    expect(keyed).toBeDefined();
    expect(await probe.get(a.key(G, 'u4'))).toMatch(/^j4#/);
    // The lane job still runs: write-back still waits, even for a user sync does not hold.
    expect(await b.enter(G, 'write-back', 'u3', 'w3')).toBeUndefined();

    await (laneJob as Hold).release();
    // Its last lane job done, sync leaves the lane; write-back runs on keys now.
    const w3 = await entered(b, 'write-back', 'u3', 'w3');
    expect(await probe.get(b.key(G, 'u3'))).toMatch(/^w3#/);
    // u4 is sync's (by key) until that job ends.
    expect(await b.enter(G, 'write-back', 'u4', 'w4')).toBeUndefined();
    await (keyed as Hold).release();
    const w4 = await entered(b, 'write-back', 'u4', 'w4');
    // Both kinds active: neither gets the lane, and sync waits for write-back's users.
    expect(a.laneOpen(G, 'sync')).toBe(false);
    expect(b.laneOpen(G, 'write-back')).toBe(false);
    expect(await a.enter(G, 'sync', 'u4', 'j5')).toBeUndefined();
    await w3.release();
    await w4.release();
    await entered(a, 'sync', 'u4', 'j5').then((r) => r.release());
    // Write-back idle again (its process leaves the group a second after its last job): sync, still
    // running jobs, is alone and takes the lane back.
    let n = 0;
    await waitFor(
      'sync takes the lane back',
      async () => {
        const r = await a.enter(G, 'sync', `v${n}`, `k${n++}`);
        await r?.release();
        return a.laneOpen(G, 'sync');
      },
      { timeoutMs: 10_000 },
    );
  });

  it('a process that dies in the lane frees the group when its lease lapses, not before', async () => {
    const ttl = 1500;
    const { a, b, ca } = twoProcesses(ttl);
    await (await entered(a, 'sync', 'u0', 'j0')).release();
    await waitFor('sync takes the lane', () => a.laneOpen(G, 'sync'));
    expect(a.enter(G, 'sync', 'u1', 'j1')).not.toBeInstanceOf(Promise);
    // Killed mid-job: no renewal, no leave.
    a.close();
    ca.disconnect();
    const killedAt = Date.now();
    expect(await b.enter(G, 'write-back', 'u9', 'w9')).toBeUndefined();
    const hold = await entered(b, 'write-back', 'u9', 'w9');
    const waited = Date.now() - killedAt;
    // Not before the last renewal's lease ran out (renewals came every 100 ms at most); when after it
    // depends on the machine's load, so only the order is asserted.
    expect(waited).toBeGreaterThanOrEqual(ttl - 150);
    await hold.release();
  });
  it('a process that stops gracefully leaves the lane at once: the other kind does not wait for the lease', async () => {
    const ttl = 30_000;
    const { a, b } = twoProcesses(ttl);
    await (await entered(a, 'sync', 'u0', 'j0')).release();
    await waitFor('sync takes the lane', () => a.laneOpen(G, 'sync'));
    await a.close();
    // The lane was left, not left to lapse (its lease had 30 s to go): write-back's first try gets in.
    const hold = await b.enter(G, 'write-back', 'u0', 'w0');
    expect(hold).toBeDefined();
    await hold?.release();
  });
});
