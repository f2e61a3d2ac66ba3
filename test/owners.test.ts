/** Every job knows its owner: a user job its user; an item job the owner it was added with, else its parent's. */
import { afterEach, describe, expect, it } from 'vitest';
import { chainedWork, checkChained } from '../src/handlers/http-chain.js';
import type { AnyHandler, HandlerContext } from '../src/handlers/types.js';
import { PermanentError } from '../src/jobs/errors.js';
import { kindByName, kindsOf } from '../src/jobs/registry.js';
import { trigger } from '../src/ops/trigger.js';
import { userReport } from '../src/ops/user.js';
import { manualClockKey } from '../src/redis/keys.js';
import { itemCatalog } from './helpers/fair.js';
import { consumeKinds, optionsFor } from './helpers/handlers.js';
import { type Harness, harness } from './helpers/harness.js';
import { waitFor } from './helpers/wait-for.js';
import { serveApp } from './helpers/web.js';

let x: Harness | undefined;
afterEach(async () => {
  await x?.dispose();
  x = undefined;
});

const catalog = itemCatalog({ download: {}, tag: {} });

describe('owners', () => {
  it("hands a user's owner down a chain of item jobs, unless a job names another, and keeps it in the dead letter", async () => {
    x = await harness({}, { catalog });
    const h = x;
    const seen: Array<{ kind: string; id: string; owner: string | undefined }> = [];
    const run: Record<string, AnyHandler> = {
      sync: (async (userId: string, ctx: HandlerContext) => {
        await ctx.enqueue('download', { id: `${userId}-t1`, data: {} });
        await ctx.enqueue('download', { id: `${userId}-t2`, data: {}, owner: 'label' });
      }) as AnyHandler,
      download: (async (item: { id: string }, ctx: HandlerContext) => {
        seen.push({ kind: 'download', id: item.id, owner: ctx.owner });
        await ctx.enqueue('tag', { id: item.id, data: {} });
      }) as AnyHandler,
      tag: (async (item: { id: string }, ctx: HandlerContext) => {
        seen.push({ kind: 'tag', id: item.id, owner: ctx.owner });
        if (item.id.endsWith('t1')) throw new PermanentError('no such file');
      }) as AnyHandler,
    };
    consumeKinds(h, run, ['sync', 'download', 'tag']);
    await h.queues
      .get('sync')
      .add('user', { userId: 'alice', scheduledFor: 1, tick: 't' }, { ...optionsFor(h.config, 'sync'), jobId: 't__alice' });
    await waitFor('both tags ran', () => seen.filter((s) => s.kind === 'tag').length === 2);
    const ownerOf = (kind: string, id: string) => seen.find((s) => s.kind === kind && s.id === id)?.owner;
    expect(ownerOf('download', 'alice-t1')).toBe('alice');
    expect(ownerOf('tag', 'alice-t1')).toBe('alice');
    expect(ownerOf('download', 'alice-t2')).toBe('label');
    expect(ownerOf('tag', 'alice-t2')).toBe('label');
    const [dead] = await waitFor('the dead letter', async () => {
      const l = await h.deadLetters.list();
      return l.length > 0 ? l : undefined;
    });
    expect(dead?.owner).toBe('alice');
    expect((dead?.data as { owner?: string } | undefined)?.owner).toBe('alice');
    // `user <id>` answers for the jobs a user owns: alice's download ran, her tag was dead-lettered.
    const alice = await waitFor('alice owns a tag record', async () => {
      const r = await userReport(h.queues, h.config, 'alice');
      return r.kinds.some((k) => k.kind === 'tag') ? r : undefined;
    });
    const kind = (name: string) => alice.kinds.find((k) => k.kind === name);
    expect(kind('download')?.lastRun).toMatchObject({ outcome: 'completed' });
    expect(kind('tag')).toMatchObject({ lastRun: { outcome: 'dead_letter' }, deadLetter: { id: dead?.id } });
    expect(alice.known).toBe(true);
    // Each worker writes its history in batches: label's tag may land in a later one than alice's.
    const label = await waitFor('label owns a tag record', async () => {
      const r = await userReport(h.queues, h.config, 'label');
      return r.kinds.some((k) => k.kind === 'tag' && k.lastRun) ? r : undefined;
    });
    expect(label.kinds.filter((k) => k.lastRun).map((k) => [k.kind, k.lastRun?.outcome])).toEqual([
      ['download', 'completed'],
      ['tag', 'completed'],
    ]);
  });

  it('takes an owner from trigger for item and global kinds, and refuses one for a user kind', async () => {
    x = await harness({}, { catalog });
    const h = x;
    const download = kindByName(h.config, 'download');
    const sync = kindByName(h.config, 'sync');
    if (!download || !sync) throw new Error('kinds missing');
    const t = await trigger(h.queues, h.config, download, { item: { id: 'x1', data: {} }, owner: 'bob' });
    // Said to the caller: the job waits for fair admission, as bob's.
    expect(t).toMatchObject({ kind: 'item', fair: true, owner: 'bob' });
    const job = await waitFor('the job admitted into the queue', () => h.queues.get('download').getJob(t.jobId));
    expect(job.data.owner).toBe('bob');
    await expect(trigger(h.queues, h.config, sync, { userId: 'u1', owner: 'bob' })).rejects.toThrow(
      /owned by their user; an owner \(--owner, owner in the API\) applies to item and global kinds only/,
    );
    // Through the API, a too long item id or owner is refused with the reason the CLI gives, before
    // any Redis call: the manual clock does not move for a run that will not be.
    const clock = await h.conn.hget(manualClockKey(h.prefix), 'download');
    const web = await serveApp(h);
    for (const body of [{ item: { id: 'i'.repeat(201) } }, { item: { id: 'x2' }, owner: 'o'.repeat(201) }]) {
      const r = await fetch(`${web.url}/api/schedules/download/run`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      const why = ((await r.json()) as { error: string }).error;
      expect([r.status, why]).toEqual([
        400,
        expect.stringMatching(/\(201 characters\) is not an (item|owner) id: it is longer than 200 characters$/),
      ]);
    }
    expect(await h.conn.hget(manualClockKey(h.prefix), 'download')).toBe(clock);
  });

  it("refuses a job's run time further ahead than a job can wait, saying the limit; a fan-out's tick has none", async () => {
    x = await harness({}, { catalog });
    const [download, sync] = [kindByName(x.config, 'download'), kindByName(x.config, 'sync')];
    if (!download || !sync) throw new Error('kinds missing');
    const at = new Date(Date.now() + 30 * 86_400_000 + 60_000);
    await expect(trigger(x.queues, x.config, download, { item: { id: 'x1', data: {} }, at })).rejects.toThrow(
      /cannot add a download job 30\.0 days ahead: a job waits at most 24\.8 days \(2\^31 - 1 ms, the longest delay spotter-jobs accepts\)$/,
    );
    // Just past the limit is past it, never "24.8 days ahead: at most 24.8".
    const justPast = new Date(Date.now() + 2 ** 31 + 60_000);
    await expect(trigger(x.queues, x.config, download, { item: { id: 'x2', data: {} }, at: justPast })).rejects.toThrow(
      /job 24\.9 days ahead/,
    );
    const tick = await trigger(x.queues, x.config, sync, { at });
    expect(tick).toMatchObject({ kind: 'tick', runAt: at.toISOString() });
  });

  it("checks an HTTP answer's owner like ctx.enqueue: an item entry may name one, a user entry may not", async () => {
    x = await harness({}, { catalog });
    const kinds = kindsOf(x.config);
    const from = kindByName(x.config, 'sync');
    if (!from) throw new Error('sync missing');
    const ok = chainedWork({ enqueue: [{ kind: 'download', id: 'd1', data: {}, owner: 'carol' }] });
    expect(ok[0]?.subject).toEqual({ id: 'd1', data: {}, owner: 'carol' });
    expect(() => checkChained(from, kinds, 0, ok)).not.toThrow();
    const bad = chainedWork({ enqueue: [{ kind: 'enrichment', userId: 'u1', owner: 'carol' }] });
    expect(() => checkChained(from, kinds, 0, bad)).toThrow(/enqueue\[0\]: .*owned by its user/);
    const badId = chainedWork({ enqueue: [{ kind: 'download', id: 'd1', owner: 'a b' }] });
    expect(() => checkChained(from, kinds, 0, badId)).toThrow(/"a b" is not an owner id: it holds other than letters/);
  });
});
