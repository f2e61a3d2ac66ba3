/**
 * A failing job must not look "ok". A global kind whose job throws on every attempt: its last run in
 * status, the status page, /api/schedules and the metrics is the job's (dead-lettered, with the
 * reason), not its tick's. A user kind's last run also counts how that tick's jobs ended so far.
 */
import { describe, expect, it } from 'vitest';
import { useProcessScenes } from './helpers/process-scene.js';
import { runCli } from './helpers/spawn-cli.js';
import { waitFor } from './helpers/wait-for.js';

const FAILING = new URL('./fixtures/failing.mjs', import.meta.url).pathname;
const SPOTTER_OFF = { SPOTTER_JOBS_SYNC_ENABLED: 'false', SPOTTER_METADATA_ENABLED: 'false', SPOTTER_JOBS_WRITEBACK_ENABLED: 'false' };

interface Row {
  name: string;
  lastRun: { result: string; added: number } | null;
  outcome: {
    state: string;
    reason?: string;
    attempt?: number;
    attempts?: number;
    jobs: { completed: number; retrying: number; deadLettered: number };
  } | null;
}

const scene = useProcessScenes();

async function statusRows(env: Record<string, string>): Promise<Row[]> {
  const r = await runCli(['status', '--json'], env);
  expect(r.code, r.stderr).toBe(0);
  return (JSON.parse(r.stdout) as { schedules: Row[] }).schedules;
}

describe('a global kind that fails every time', () => {
  it('shows dead-lettered with the reason in status, the API, the status page and the metrics', async () => {
    const s = scene({ SPOTTER_JOBS_HANDLERS: FAILING, ...SPOTTER_OFF, SPOTTER_JOBS_HTTP_PORT: '0' });
    const p = s.start(['all']);
    const url = String((await p.waitForLog((l) => /^board at /.test(l.msg), 'board at')).url);

    // The job's dead letter and the tick's count of outcomes are written apart (the counts are
    // batched for 50 ms), so a read can fall between them: wait for both.
    const nightly = await waitFor('a dead-lettered nightly run in status, counted in its tick', async () => {
      const row = (await statusRows(s.env)).find((k) => k.name === 'nightly');
      return row?.outcome?.state === 'dead_lettered' && row.outcome.jobs.deadLettered > 0 ? row : undefined;
    });
    // The tick itself went fine: that is exactly what must not be shown as the run's result.
    expect(nightly.lastRun).toMatchObject({ result: 'ok', added: 1 });
    expect(nightly.outcome).toMatchObject({ attempt: 2, attempts: 2, jobs: { deadLettered: 1 } });
    expect(nightly.outcome?.reason).toMatch(/the ledger service refused the batch/);

    const text = await waitFor('the status table says dead-lettered', async () => {
      const r = await runCli(['status'], s.env);
      const line = r.stdout.split('\n').find((l) => l.startsWith('nightly'));
      return line?.includes('dead-lettered') ? line : undefined;
    });
    expect(text).toMatch(/dead-lettered after attempt 2 of 2: .*the ledger service refused the batch/);
    expect(text).not.toMatch(/\bok users=/);

    const api = await waitFor('the API says dead_lettered', async () => {
      const rows = (await (await fetch(`${url}/api/schedules`)).json()) as Row[];
      const row = rows.find((k) => k.name === 'nightly');
      return row?.outcome?.state === 'dead_lettered' ? row : undefined;
    });
    expect(api.outcome?.reason).toMatch(/the ledger service refused the batch/);

    await waitFor('the status page says dead-lettered', async () => {
      const page = await (await fetch(`${url}/`)).text();
      const row = page.split('<tr>').find((r) => r.includes('<b>nightly</b>'));
      return (
        row?.includes('dead-lettered after attempt 2 of 2') && row.includes('the ledger service refused the batch') && !/>ok</.test(row)
      );
    });

    await waitFor('the metrics say the run failed', async () => {
      const m = await (await fetch(`${url}/metrics`)).text();
      return (
        m.includes('spotter_jobs_schedule_last_run_success{schedule="nightly"} 0') &&
        m.includes('spotter_jobs_schedule_last_run_state{schedule="nightly",state="dead_lettered"} 1')
      );
    });
  });
});

describe("a user kind's last run", () => {
  it('counts how the tick’s jobs ended: completed, retrying, dead-lettered', async () => {
    const s = scene({
      FIXTURE_USER_IDS: 'u1,u2,flaky1,perm1,perm2',
      ...SPOTTER_OFF,
      SPOTTER_JOBS_SYNC_ENABLED: 'true',
      SPOTTER_SYNC_INTERVAL: '1h',
    });
    await s.start(['all']).waitForLog((l) => l.msg === 'worker started', 'worker started');
    const t = await runCli(['trigger', 'sync'], s.env);
    expect(t.code, t.stderr).toBe(0);
    // flaky1 fails its first attempt and completes on its second: it leaves "retrying" again.
    const sync = await waitFor('every job of the tick ended', async () => {
      const row = (await statusRows(s.env)).find((k) => k.name === 'sync');
      const j = row?.outcome?.jobs;
      return j && j.completed + j.deadLettered === 5 ? row : undefined;
    });
    expect(sync.lastRun).toMatchObject({ result: 'ok', added: 5 });
    expect(sync.outcome).toMatchObject({ state: 'ok', jobs: { completed: 3, retrying: 0, deadLettered: 2 } });
    const r = await runCli(['status'], s.env);
    expect(r.stdout).toMatch(/^sync .*ok users=5 added=5 .*; jobs completed=3 retrying=0 dead-lettered=2$/m);
  });
});
