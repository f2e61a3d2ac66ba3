/**
 * Small things a newcomer reads wrong: ENABLED before any producer ran, `resume` of a schedule that
 * is not paused, `user` of an id nobody knows, the subject column of `dlq list`, and the status
 * page's most common failure reasons across users.
 */
import { describe, expect, it } from 'vitest';
import { useProcessScenes } from './helpers/process-scene.js';
import { runCli } from './helpers/spawn-cli.js';
import { waitFor } from './helpers/wait-for.js';

const FAILING = new URL('./fixtures/failing.mjs', import.meta.url).pathname;

const scene = useProcessScenes();

describe('before any producer ran', () => {
  it("status shows the local configuration's ENABLED, marked as not yet recorded; resume and user say what is so", async () => {
    const s = scene({ SPOTTER_JOBS_WRITEBACK_ENABLED: 'false' });
    const json = JSON.parse((await runCli(['status', '--json'], s.env)).stdout) as {
      catalog: string;
      schedules: Array<{ name: string; enabled: boolean }>;
    };
    expect(json.catalog).toBe('local');
    expect(json.schedules.map((k) => [k.name, k.enabled])).toEqual([
      ['sync', true],
      ['enrichment', true],
      ['write-back', false],
    ]);
    const text = (await runCli(['status'], s.env)).stdout;
    expect(text).toMatch(/^sync\s+sync\s+yes \(local\)\s+5m/m);
    expect(text).toMatch(/^write-back\s+writeback\s+no \(local\)/m);
    expect(text).toMatch(/not yet recorded/);

    const resume = await runCli(['resume', 'sync'], s.env);
    expect(resume.code, resume.stderr).toBe(0);
    expect(resume.stdout.trim()).toBe('sync is not paused');

    const nobody = await runCli(['user', 'nobody'], s.env);
    expect(nobody.code, nobody.stderr).toBe(0);
    expect(nobody.stdout).toMatch(/^No record of user nobody exists/);
    expect(nobody.stdout).not.toMatch(/NEXT TICK/);
    expect(JSON.parse((await runCli(['user', 'nobody', '--json'], s.env)).stdout)).toMatchObject({ userId: 'nobody', known: false });
  });
});

describe('failures of several users and of an item', () => {
  it("dlq list labels ids by the kind's scope; the status page groups reasons without the user's id", async () => {
    const s = scene({
      SPOTTER_JOBS_HANDLERS: FAILING,
      FIXTURE_NIGHTLY_SCHEDULE: '1h',
      FIXTURE_USER_IDS: 'perm1,perm2,perm3',
      SPOTTER_JOBS_SYNC_ENABLED: 'false',
      SPOTTER_METADATA_ENABLED: 'false',
      SPOTTER_JOBS_WRITEBACK_ENABLED: 'false',
      SPOTTER_JOBS_HTTP_PORT: '0',
    });
    const p = s.start(['all']);
    const url = String((await p.waitForLog((l) => /^board at /.test(l.msg), 'board at')).url);
    expect((await runCli(['trigger', 'broken', '--item', 'i1', '--data', '{}'], s.env)).code).toBe(0);
    expect((await runCli(['trigger', 'sync'], s.env)).code).toBe(0);
    await waitFor('the item and the three users dead-lettered', async () => {
      const r = await runCli(['dlq', 'list', '--json'], s.env);
      const sources = (JSON.parse(r.stdout) as Array<{ sourceQueue: string }>).map((d) => d.sourceQueue);
      return sources.filter((q) => q === 'broken').length === 1 && sources.filter((q) => q === 'sync').length === 3;
    });

    const items = await runCli(['dlq', 'list', '--queue', 'broken'], s.env);
    expect(items.stdout.split('\n')[0]).toMatch(/^ID\s+QUEUE\s+ITEM\s+ATTEMPTS/);
    expect(items.stdout).toMatch(/^broken__\S+\s+broken\s+i1\s/m);
    const users = await runCli(['dlq', 'list', '--queue', 'sync'], s.env);
    expect(users.stdout.split('\n')[0]).toMatch(/^ID\s+QUEUE\s+USER\s+ATTEMPTS/);
    const mixed = await runCli(['dlq', 'list'], s.env);
    expect(mixed.stdout.split('\n')[0]).toMatch(/^ID\s+QUEUE\s+SUBJECT\s+ATTEMPTS/);
    expect(mixed.stdout).toMatch(/\sitem i1\s/);
    expect(mixed.stdout).toMatch(/\suser perm2\s/);

    const page = await (await fetch(`${url}/`)).text();
    const sync = page.split('<tr>').find((r) => r.startsWith('<td>sync</td>')) ?? '';
    expect(sync).toMatch(/<li>3× <code>permanent: no such account: &lt;user&gt;<\/code><\/li>/);
    expect(sync).not.toMatch(/perm\d/);
  });
});
