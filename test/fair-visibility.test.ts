/** Fair admission seen from outside: status, user, owner weight (CLI and API) and the metrics show the backlog. */
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load.js';
import { fairOf } from '../src/jobs/fair-admission.js';
import { kindBacklog } from '../src/jobs/fair-backlog.js';
import { setOwnerWeight } from '../src/jobs/fair-weights.js';
import { kindByName } from '../src/jobs/registry.js';
import { forgetKind } from '../src/ops/forget.js';
import { ownerWeightsKey } from '../src/redis/keys.js';
import { addOwned, itemCatalog } from './helpers/fair.js';
import { type Harness, harness, reconcileAsProducer } from './helpers/harness.js';
import { newPrefix, testEnv } from './helpers/redis.js';
import { runCli } from './helpers/spawn-cli.js';
import { waitFor } from './helpers/wait-for.js';
import { serveApp } from './helpers/web.js';

let x: Harness | undefined;
afterEach(async () => {
  await x?.dispose();
  x = undefined;
});

const catalog = itemCatalog({ track: { concurrency: 5, fairWindow: 20 } });

/** A fair kind with no worker: the window (20) takes alice's first jobs, the rest wait per owner. */
async function backlogged(): Promise<Harness> {
  x = await harness({}, { catalog });
  await reconcileAsProducer(x);
  await addOwned(x, 'track', 'alice', 30);
  await addOwned(x, 'track', 'bob', 3);
  const kind = kindByName(x.config, 'track');
  if (kind) await fairOf(x.queues).settle(kind);
  return x;
}

describe('the backlog of a fair kind', () => {
  it('shows in status and in user <id>, per owner', async () => {
    const h = await backlogged();
    const env = testEnv(h.prefix);
    const status = await runCli(['status', '--json'], env);
    expect(status.code, status.stderr).toBe(0);
    const s = JSON.parse(status.stdout) as {
      backlog: Array<{ kind: string; owners: number; waiting: number; top: Array<{ owner: string; waiting: number }> }>;
    };
    expect(s.backlog).toEqual([
      expect.objectContaining({ kind: 'track', owners: 2, waiting: 13, top: [expect.objectContaining({ owner: 'alice', waiting: 10 })] }),
    ]);
    const text = await runCli(['status'], env);
    expect(text.stdout).toMatch(/Backlog: jobs of fair kinds waiting for admission[\s\S]*track\s+2\s+13\s+0\s+0\s+alice: 10, oldest/);
    const user = await runCli(['user', 'bob'], env);
    expect(user.code, user.stderr).toBe(0);
    expect(user.stdout).toMatch(/Waiting for admission \(fair kinds\)[\s\S]*track\s+3\s+\d/);
    // A job triggered by hand is said to wait for admission, not to be in the queue.
    const t = await runCli(['trigger', 'track', '--item', 'z1', '--owner', 'carol'], env);
    expect(t.code, t.stderr).toBe(0);
    expect(t.stdout).toMatch(/^filed for fair admission: track job \S+ for item z1 at \S+ \(owner carol\)$/m);
  });

  it('sets and shows an owner weight from the command line and the API', async () => {
    const h = await backlogged();
    const env = testEnv(h.prefix);
    const set = await runCli(['owner', 'weight', 'bob', '3'], env);
    expect(set.code, set.stderr).toBe(0);
    expect(set.stdout).toMatch(/Set: owner bob has weight 3 in every fair kind[\s\S]*track\s+3/);
    expect(await h.conn.hget(ownerWeightsKey(h.prefix), 'bob')).toBe('3');
    // An owner with no job waiting (a mistyped id, or set ahead of its jobs) keeps the weight, and is told so.
    const ahead = await runCli(['owner', 'weight', 'bobb', '2'], env);
    expect(ahead.stdout).toMatch(/^No job of bobb waits for admission now; the weight is kept for its jobs until set back to 1$/m);
    const read = await runCli(['owner', 'weight', 'bobc'], env);
    expect(read.stdout).toMatch(/^No job of bobc waits for admission now$/m);
    // Under a prefix where no kind is fair (no producer recorded a catalog there), a weight would change nothing.
    const elsewhere = await runCli(['owner', 'weight', 'bob', '2'], testEnv(newPrefix()));
    expect(elsewhere.code).toBe(2);
    expect(elsewhere.stderr).toMatch(
      /no kind is fair under prefix "[^"]+" \(kinds: sync, enrichment, write-back\), so a weight would change nothing/,
    );
    const bad = await runCli(['owner', 'weight', 'bob', 'heavy'], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/weight "heavy" is not a number/);
    for (const [arg, stored] of [
      ['1e3', '1000'],
      ['.5', '0.5'],
    ] as const) {
      const r = await runCli(['owner', 'weight', 'bob', arg], env);
      expect(r.code, r.stderr).toBe(0);
      expect(await h.conn.hget(ownerWeightsKey(h.prefix), 'bob')).toBe(stored);
    }
    const heavy = await runCli(['owner', 'weight', 'bob', '2e4'], env);
    expect(heavy.code).toBe(2);
    expect(heavy.stderr).toMatch(/weight 20000 is not a number from 0.01 to 10000/);
    const web = await serveApp(h);
    const put = (body: unknown) =>
      fetch(`${web.url}/api/owners/bob/weight`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const ok = await put({ weight: 0.5 });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ owner: 'bob', weight: 0.5, backlog: [expect.objectContaining({ kind: 'track', waiting: 3 })] });
    expect((await put({ weight: 0 })).status).toBe(400);
    // What was wrong is named: an unknown field, a body that is no object, a missing content type.
    const extra = await put({ weight: 2, heavy: true });
    expect(extra.status).toBe(400);
    expect(((await extra.json()) as { error: string }).error).toMatch(/expected \{"weight": <number from 0.01 to 10000>\}: .*"heavy"/);
    const scalar = await put(3);
    expect(scalar.status).toBe(400);
    expect(((await scalar.json()) as { error: string }).error).toBe('request body is not a JSON object or array (or not JSON at all)');
    const untyped = await fetch(`${web.url}/api/owners/bob/weight`, { method: 'PUT', body: JSON.stringify({ weight: 2 }) });
    expect(untyped.status).toBe(400);
    expect(((await untyped.json()) as { error: string }).error).toMatch(/weight: .*\(sent without Content-Type: application\/json\)$/);
  });

  it('shows on the status page', async () => {
    const h = await backlogged();
    const web = await serveApp(h);
    const page = await (await fetch(`${web.url}/`)).text();
    expect(page).toMatch(
      /Waiting for admission \(fair kinds\)[\s\S]*<td>track<\/td><td class="n">2<\/td><td class="n">13<\/td><td class="n">0<\/td><td class="n">0<\/td><td>alice: 10/,
    );
    // The user view says what `user <id>` says: bob's 3 jobs wait for admission.
    const bob = await (await fetch(`${web.url}/?user=bob`)).text();
    expect(bob).toMatch(/<h2>User bob<\/h2>[\s\S]*Waiting for admission \(fair kinds\)<\/h3>[\s\S]*<td>track<\/td><td class="n">3<\/td>/);
  });

  it('goes with its kind when forget removes a kind gone from the catalog', async () => {
    const h = await backlogged();
    const without = loadConfig(testEnv(h.prefix));
    const gone = await forgetKind(h.queues, without, 'track');
    expect(gone).toMatchObject({ kind: 'track', jobs: 20 + 13 });
    expect(await h.conn.keys(`${h.prefix}:spotter-jobs:fair:*`)).toEqual([]);
  });

  it('is measured, with at most ten owners labelled', async () => {
    const h = await backlogged();
    const web = await serveApp(h);
    const text = await (await fetch(`${web.url}/metrics`)).text();
    expect(text).toMatch(/^spotter_jobs_fair_waiting\{kind="track"\} 13$/m);
    expect(text).toMatch(/^spotter_jobs_fair_owners\{kind="track"\} 2$/m);
    expect(text).toMatch(/^spotter_jobs_fair_largest_backlog\{kind="track"\} 10$/m);
    expect(text).toMatch(/^spotter_jobs_fair_oldest_waiting_seconds\{kind="track",owner="bob"\} [\d.e-]+$/m);
  });

  it.each([
    ['at its cap', { ownerConcurrency: 1 }, 1],
    ['by a low weight', {}, 0.01],
  ])("labels an owner held back %s with a few jobs by its oldest job's age, not only the largest backlogs", async (_why, cap, weight) => {
    // No worker. held's first job is admitted: it holds held's cap of 1, or (weight 1/100) puts held's
    // next turn 100 jobs behind everyone's. Seven owners' jobs fill the rest of the window's 8 places.
    x = await harness({}, { catalog: itemCatalog({ track: { concurrency: 5, fairWindow: 8, ...cap } }) });
    const h = x;
    const kind = kindByName(h.config, 'track');
    if (!kind) throw new Error('no track');
    if (weight !== 1) await setOwnerWeight(h.conn, h.prefix, 'held', weight, [kind]);
    const settle = () => fairOf(h.queues).settle(kind);
    await addOwned(h, 'track', 'held', 1);
    await settle();
    for (let i = 0; i < 7; i++) await addOwned(h, 'track', `fill${i}`, 1);
    await settle();
    await addOwned(h, 'track', 'held', 2, 1);
    await settle();
    // held's two waiting jobs are the oldest: filed before the big owners', a clock tick earlier.
    const filed = Date.now();
    await waitFor('the clock to move on', () => Date.now() > filed + 1, { intervalMs: 1 });
    for (let i = 0; i < 11; i++) await addOwned(h, 'track', `big${String(i).padStart(2, '0')}`, 5);
    await settle();
    const b = await kindBacklog(h.conn, h.prefix, kind, 10, true);
    // The ten largest backlogs leave held out (2 waiting against 5)...
    expect(b.top.map((o) => o.owner)).not.toContain('held');
    expect(b.top).toHaveLength(10);
    // ...and its age, the oldest, is what the metric labels first.
    expect(b.oldest?.[0]).toMatchObject({ owner: 'held', waiting: 2 });
    expect(b.oldest?.length).toBeLessThanOrEqual(10);
    const web = await serveApp(h);
    const text = await (await fetch(`${web.url}/metrics`)).text();
    expect(text).toMatch(/^spotter_jobs_fair_oldest_waiting_seconds\{kind="track",owner="held"\} [\d.e-]+$/m);
    expect(text.match(/^spotter_jobs_fair_oldest_waiting_seconds\{/gm)?.length).toBeLessThanOrEqual(10);
  });
});
