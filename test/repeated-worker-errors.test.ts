/**
 * A worker error that repeats in a loop is logged once, then counted: BullMQ fetches again while
 * Redis refuses the fetch (out of memory, a real `maxmemory`; after a growing wait, see
 * refused-fetches.test.ts), emitting the error each time.
 */
import { describe, expect, it } from 'vitest';
import { addJob } from '../src/jobs/add-job.js';
import { kindByName } from '../src/jobs/registry.js';
import { RepeatedErrors } from '../src/telemetry/repeated-errors.js';
import { itemCatalog } from './helpers/fair.js';
import { consumeKinds } from './helpers/handlers.js';
import { capturingLogger, harness } from './helpers/harness.js';
import { privateRedis } from './helpers/redis.js';
import { waitFor } from './helpers/wait-for.js';

/** How many OOM errors Redis has answered, by its own count. */
async function oomErrors(conn: { info(section: string): Promise<string> }): Promise<number> {
  return Number(/errorstat_OOM:count=(\d+)/.exec(await conn.info('errorstats'))?.[1] ?? 0);
}

describe('worker errors in a loop', () => {
  it('are logged once while Redis refuses every fetch for memory, then as one count, and the job runs once memory frees', async () => {
    const r = await privateRedis({ appendonly: false });
    const { log, lines } = capturingLogger('warn');
    try {
      const catalog = itemCatalog({ track: { fair: false } });
      const h = await harness({ REDIS_URL: r.redis.url }, { catalog, log });
      const kind = kindByName(h.config, 'track');
      if (!kind) throw new Error('no track');
      try {
        await addJob(h.queues, { kind, subject: { id: 't1', data: {} }, jobId: 'o__1', scheduledFor: Date.now() });
        await h.conn.config('SET', 'maxmemory-policy', 'noeviction');
        await h.conn.config('SET', 'maxmemory', '1');
        const ran: string[] = [];
        consumeKinds(h, { track: async (item: { id: string }) => void ran.push(item.id) }, ['track']);
        // Redis' own count: the worker asked for its job again and again.
        await waitFor('Redis to refuse the fetch again and again', async () => (await oomErrors(h.conn)) >= 4);
        // Each distinct refusal (one per script BullMQ runs to fetch) once, not once per try.
        const logged = lines.filter((l) => l.msg === 'worker error');
        expect(logged.length).toBeGreaterThan(0);
        expect(logged.length).toBeLessThanOrEqual(5);
        expect(new Set(logged.map((l) => l.err)).size).toBe(logged.length);
        for (const l of logged) expect(String(l.err)).toMatch(/^OOM /);

        await h.conn.config('SET', 'maxmemory', '0');
        await waitFor('the job to run once memory freed', () => ran.includes('t1'));
      } finally {
        await h.conn.config('SET', 'maxmemory', '0');
        await h.dispose();
      }
      // Closing logs what was counted meanwhile.
      const counted = lines.filter((l) => typeof l.msg === 'string' && l.msg.startsWith('worker error (again '));
      expect(counted.reduce((n, l) => n + Number(l.repeats), 0)).toBeGreaterThanOrEqual(2);
    } finally {
      await r.dispose();
    }
  });

  it('log a message again at once after a quiet window, count the repeats of each, and those past the tracked ones together', async () => {
    const { log, lines } = capturingLogger('warn');
    const e = new RepeatedErrors(log, { queue: 'q' }, 'worker error', 50);
    e.report('a');
    e.report('a');
    e.report('b');
    expect(lines.map((l) => [l.msg, l.err])).toEqual([
      ['worker error', 'a'],
      ['worker error', 'b'],
    ]);
    await waitFor('the window to end', () => lines.some((l) => l.repeats === 1));
    expect(lines[2]).toMatchObject({ msg: 'worker error (again 1 times in 1 s)', err: 'a', queue: 'q', repeats: 1 });
    // A window without repeats ends the run of `a` (and `b` had none): the next of each is logged at once.
    await waitFor(
      'the run of `a` to end',
      () => {
        e.report('a');
        return lines.filter((l) => l.msg === 'worker error' && l.err === 'a').length === 2;
      },
      // Tries far apart: quiet windows between them.
      { intervalMs: 200 },
    );
    for (let i = 0; i < 30; i++) e.report(`m${i}`);
    e.close();
    const others = lines.find((l) => typeof l.msg === 'string' && l.msg.includes('more of other messages'));
    // 20 messages tracked at once: `a` and 19 of the new ones; the other 11 counted together.
    expect(others).toMatchObject({ repeats: 11, err: 'm19' });
  });
});
