/**
 * Refills whose transactions Redis refuses: out of memory (a real `maxmemory`), or without the
 * scripts it dropped (a real SCRIPT FLUSH). Nothing is added, the jobs stay admitting with Redis' own
 * reason logged, and once the cause is gone they are admitted after the grace, every job once.
 */
import { describe, expect, it } from 'vitest';
import type { Config } from '../src/config/config.js';
import type { KindConfig } from '../src/config/kind-config.js';
import { fairOf } from '../src/jobs/fair-admission.js';
import { MOST_ADDS_PER_TRANSACTION } from '../src/jobs/fair-admit.js';
import { addKeys, type FairKeys, fairKeys } from '../src/jobs/fair-keys.js';
import { kindByName } from '../src/jobs/registry.js';
import { scripted } from '../src/redis/commands.js';
import { itemCatalog } from './helpers/fair.js';
import { capturingLogger, type Harness, harness } from './helpers/harness.js';
import { privateRedis } from './helpers/redis.js';
import { waitFor } from './helpers/wait-for.js';

async function usedMemory(conn: { info(section: string): Promise<string> }): Promise<number> {
  return Number(/used_memory:(\d+)/.exec(await conn.info('memory'))?.[1]);
}

/** Files `n` jobs of owner `o` with `bytes` of data each straight through the script, from id `from`. */
async function file(h: Harness, k: FairKeys, n: number, bytes: number, from = 0): Promise<void> {
  const pad = 'x'.repeat(bytes);
  const args = Array.from({ length: n }, (_, i) => [
    `o__${from + i}`,
    JSON.stringify({ t: Date.now(), d: { id: `o${from + i}`, data: { pad }, scheduledFor: 1, owner: 'o' } }),
    'o',
    '0',
    '0',
  ]).flat();
  await scripted(h.conn).sjFairAdd(...addKeys(k), ...args);
}

/** Refills until nothing is left admitting (the refused jobs' grace passed), then the queue's job ids (none missing). */
async function admittedAgain(h: Harness, kind: KindConfig, k: FairKeys): Promise<string[]> {
  await waitFor(
    'the refused jobs admitted again after the grace',
    async () => {
      await fairOf(h.queues).settle(kind);
      return (await h.conn.zcard(k.admitting)) === 0;
    },
    { timeoutMs: 15_000, intervalMs: 100 },
  );
  return (await h.queues.get('track').getWaiting(0, -1)).map((j) => String(j.id));
}

/** A harness on a Redis of the test's own (the faults are server-wide), a 2 s grace and a window of `window`; disposed after `body`. */
async function onOwnRedis(
  window: number,
  body: (h: Harness, kind: KindConfig, k: FairKeys, lines: Array<Record<string, unknown>>) => Promise<void>,
) {
  const r = await privateRedis({ appendonly: false });
  const { log, lines } = capturingLogger('warn');
  try {
    // A 1 s lock: a 2 s grace before refused jobs are admitted again.
    const catalog = itemCatalog({ track: { concurrency: 2, fairWindow: window } });
    const h = await harness({ REDIS_URL: r.redis.url, SPOTTER_JOBS_LOCK_DURATION: '1s' }, { catalog, log });
    try {
      const kind = kindByName(h.config as Config, 'track');
      if (!kind?.fair) throw new Error('track is not fair');
      await body(h, kind, fairKeys(h.prefix, kind), lines);
    } finally {
      await h.conn.config('SET', 'maxmemory', '0');
      await h.dispose();
    }
  } finally {
    await r.dispose();
  }
}

describe('a refill whose transactions Redis refuses', () => {
  it('keeps their jobs admitting when out of memory, logs the reason, and admits them once memory frees', async () => {
    const jobs = 3 * MOST_ADDS_PER_TRANSACTION;
    await onOwnRedis(jobs, async (h, kind, k, lines) => {
      // 8 KB of data a job: the adds Redis holds for one transaction take more than the headroom.
      await file(h, k, jobs, 8192);
      await h.conn.config('SET', 'maxmemory-policy', 'noeviction');
      await h.conn.config('SET', 'maxmemory', String((await usedMemory(h.conn)) + 200 * 1024));

      await fairOf(h.queues).settle(kind);
      expect(await h.queues.get('track').getWaitingCount()).toBe(0);
      expect(await h.conn.zcard(k.admitting)).toBe(jobs);
      expect(await h.conn.hlen(k.specs)).toBe(jobs);
      const failed = lines.find((l) => l.msg === 'fair admission: refill failed; retrying');
      // Redis' reason, not only that the transaction was discarded.
      expect(String(failed?.err)).toMatch(/^OOM /);

      await h.conn.config('SET', 'maxmemory', '0');
      // Refused as it was queued, the add's script never loaded: the next try meets NOSCRIPT, and
      // loads the scripts for the one after.
      expect(await admittedAgain(h, kind, k)).toHaveLength(jobs);
      expect(lines.some((l) => /^NOSCRIPT /.test(String(l.err)))).toBe(true);
      expect(await h.conn.hlen(k.specs)).toBe(0);
    });
  });

  it('loads the scripts again when Redis dropped them, and admits the jobs it refused', async () => {
    const jobs = 2 * MOST_ADDS_PER_TRANSACTION;
    await onOwnRedis(jobs, async (h, kind, k, lines) => {
      await file(h, k, jobs / 2, 16);
      await fairOf(h.queues).settle(kind);
      expect(await h.queues.get('track').getWaitingCount()).toBe(jobs / 2);

      await h.conn.script('FLUSH');
      await file(h, k, jobs / 2, 16, jobs / 2);
      await fairOf(h.queues).settle(kind);
      // The transaction ran, each command in it answered NOSCRIPT: its jobs were refused one by one.
      const refused = lines.find((l) => l.msg === 'fair admission: the queue refused admitted jobs; tried again after the grace');
      expect(String(refused?.err)).toMatch(/^NOSCRIPT /);
      expect(await h.conn.zcard(k.admitting)).toBe(jobs / 2);

      expect(await admittedAgain(h, kind, k)).toHaveLength(jobs);
      expect(await h.conn.hlen(k.specs)).toBe(0);
    });
  });

  it('acknowledges at once the jobs a transaction added when only its acknowledgement lacked its script', async () => {
    const jobs = MOST_ADDS_PER_TRANSACTION;
    // A window with room for them all and the plain job.
    await onOwnRedis(jobs + 1, async (h, kind, k, lines) => {
      await file(h, k, 1, 16);
      await fairOf(h.queues).settle(kind);

      await h.conn.script('FLUSH');
      // An add outside a transaction on the same connection: ioredis sends BullMQ's add script again,
      // so in the next transaction the adds run and only the acknowledgement meets NOSCRIPT.
      await h.queues.get('track').add('item', { id: 'plain', data: {}, scheduledFor: 1 }, { jobId: 'plain' });
      await file(h, k, jobs - 1, 16, 1);
      await fairOf(h.queues).settle(kind);
      // Not left admitting, to be admitted again after the grace when they may have run and gone.
      expect(await h.conn.zcard(k.admitting)).toBe(0);
      expect(await h.conn.hlen(k.specs)).toBe(0);
      expect(await h.queues.get('track').getWaitingCount()).toBe(jobs + 1);
      const recovered = lines.find(
        (l) => l.msg === 'fair admission: the jobs went into the queue after an error Redis answered; recovered',
      );
      expect(String(recovered?.err)).toMatch(/^NOSCRIPT /);
    });
  });
});
