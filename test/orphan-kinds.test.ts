/**
 * Kinds left behind: after the catalog changed, the queues of kinds no longer in it keep their jobs.
 * status, the status page and the API list them and say no kind consumes them; `dlq replay` refuses
 * their dead letters, naming the kind; `forget <kind> --yes` removes their queue and dead letters.
 */
import { describe, expect, it } from 'vitest';
import { useProcessScenes } from './helpers/process-scene.js';
import { runCli } from './helpers/spawn-cli.js';
import { waitFor } from './helpers/wait-for.js';

const PIPELINE = new URL('./fixtures/pipeline.mjs', import.meta.url).pathname;

interface Orphan {
  queue: string;
  jobs: Record<string, number>;
  deadLetters: number;
}

const scene = useProcessScenes();

describe('queues of kinds gone from the catalog', () => {
  it('are listed, refused for replay, and forgotten on request', async () => {
    // Before: Spotter's own kinds; perm1 fails for good in enrichment, u2 has a run waiting for tomorrow.
    const s = scene({
      FIXTURE_USER_IDS: 'u1,perm1',
      SPOTTER_JOBS_SYNC_ENABLED: 'false',
      SPOTTER_METADATA_ENABLED: 'false',
      SPOTTER_JOBS_WRITEBACK_ENABLED: 'false',
    });
    const before = s.start(['all']);
    await before.waitForLog((l) => l.msg === 'worker started', 'worker started');
    expect((await runCli(['trigger', 'enrichment'], s.env)).code).toBe(0);
    const later = new Date(Date.now() + 86_400_000).toISOString();
    expect((await runCli(['trigger', 'enrichment', '--user', 'u2', '--at', later], s.env)).code).toBe(0);
    const list = await waitFor('perm1 dead-lettered', async () => {
      const r = await runCli(['dlq', 'list', '--json'], s.env);
      const items = JSON.parse(r.stdout) as Array<{ id: string; sourceQueue: string }>;
      return items.length === 1 ? items : undefined;
    });
    before.kill('SIGTERM');
    await before.exited;

    // After: a module that owns its catalog, without Spotter's kinds.
    const env = { ...s.env, SPOTTER_JOBS_HANDLERS: PIPELINE, PIPELINE_ITEMS: '0', SPOTTER_JOBS_HTTP_PORT: '0' };
    const after = s.start(['producer'], env);
    const url = String((await after.waitForLog((l) => /^board at /.test(l.msg), 'board at')).url);
    await after.waitForLog((l) => l.msg === 'producer started', 'producer started');

    const status = await runCli(['status', '--json'], env);
    expect(status.code, status.stderr).toBe(0);
    const orphans = (JSON.parse(status.stdout) as { orphans: Orphan[] }).orphans;
    expect(orphans.map((o) => o.queue)).toEqual(['enrichment']);
    expect(orphans[0]).toMatchObject({ deadLetters: 1, jobs: { delayed: 1, failed: 1, completed: 1 } });
    const table = await runCli(['status'], env);
    expect(table.stdout).toMatch(/Left behind: queues of kinds no longer in the catalog; no kind consumes them/);
    expect(table.stdout).toMatch(/^enrichment\s+0\s+0\s+1\s+0\s+1\s+1\s+1$/m);
    const api = (await (await fetch(`${url}/api/status`)).json()) as { orphans: Orphan[] };
    expect(api.orphans).toEqual(orphans);
    const page = await (await fetch(`${url}/`)).text();
    expect(page).toMatch(/<h2>Left behind<\/h2>\s*<p class="bad">No kind of the catalog consumes these queues/);
    expect(page).toMatch(/<tr><td>enrichment<\/td>/);

    // The dead letter's kind is gone: a replay would go onto a queue nobody consumes.
    const replay = await runCli(['dlq', 'replay', String(list[0]?.id)], env);
    expect(replay.code).toBe(2);
    expect(replay.stdout + replay.stderr).toMatch(/no kind consumes "enrichment"/);
    expect(await s.conn.exists(`${s.prefix}:dead-letter:${list[0]?.id}`)).toBe(1);

    // forget: asks for --yes, refuses a kind of the catalog, then removes everything of enrichment.
    const unsure = await runCli(['forget', 'enrichment'], env);
    expect(unsure.code).toBe(2);
    expect(unsure.stderr).toMatch(/add --yes/);
    const live = await runCli(['forget', 'download', '--yes'], env);
    expect(live.code).toBe(2);
    expect(live.stderr).toMatch(/download is a kind of the catalog/);
    // Its users' history goes too: a kind added again under the name shows none of it.
    const history = `${s.prefix}:spotter-jobs:history:*:enrichment:*`;
    expect((await s.conn.keys(history)).length).toBeGreaterThan(0);
    const gone = await runCli(['forget', 'enrichment', '--yes'], env);
    expect(gone.code, gone.stderr).toBe(0);
    expect(gone.stdout).toMatch(/forgot enrichment: removed queue enrichment with 3 job\(s\) and 1 dead letter\(s\)/);
    expect(await s.conn.keys(`${s.prefix}:enrichment:*`)).toEqual([]);
    expect(await s.conn.keys(history)).toEqual([]);
    expect(await s.conn.exists(`${s.prefix}:dead-letter:${list[0]?.id}`)).toBe(0);
    const clean = JSON.parse((await runCli(['status', '--json'], env)).stdout) as { orphans: Orphan[] };
    expect(clean.orphans).toEqual([]);
  });
});
