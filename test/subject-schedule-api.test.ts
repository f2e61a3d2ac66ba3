/** /api/subject-schedules: the same store as the CLI and ctx.schedules, over HTTP, and its metrics. */
import { describe, expect, it } from 'vitest';
import { useHarnesses } from './helpers/in-process.js';
import { scheduleCatalog as catalog } from './helpers/schedule-catalog.js';
import { serveApp } from './helpers/web.js';

const { h } = useHarnesses();

async function api() {
  const x = await h({}, { catalog });
  const web = await serveApp(x);
  const call = async (method: string, path: string, body?: unknown) => {
    const r = await fetch(`${web.url}/api${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: r.status, body: (await r.json()) as Record<string, unknown> };
  };
  return { x, web, call };
}

describe('/api/subject-schedules', () => {
  it('creates, lists by user (also on the status page), pauses, resumes and removes', async () => {
    const { call, web } = await api();
    const made = await call('POST', '/subject-schedules', { kind: 'remind', user: 'ann', rule: 'every day at 08:00', tz: 'Europe/Berlin' });
    expect(made.status).toBe(201);
    expect(made.body).toMatchObject({ kind: 'remind', user: 'ann', rule: 'cron 0 8 * * *', state: 'active' });
    const id = made.body.id as string;
    expect((await call('GET', '/subject-schedules?user=ann')).body.schedules).toEqual([expect.objectContaining({ id })]);
    // The status page's user view lists them, as `user <id>` does.
    const page = await (await fetch(`${web.url}/?user=ann`)).text();
    expect(page).toMatch(new RegExp(`<h3>Schedules</h3>[\\s\\S]*<code>${id}</code></td><td>remind</td>[\\s\\S]*cron 0 8 \\* \\* \\*`));
    expect((await call('POST', `/subject-schedules/${id}/pause`)).body).toMatchObject({ state: 'paused', next: null });
    expect((await call('POST', `/subject-schedules/${id}/resume`)).body).toMatchObject({ state: 'active' });
    expect((await call('DELETE', `/subject-schedules/${id}`)).body).toEqual({ id, removed: true });
    expect((await call('GET', `/subject-schedules/${id}`)).status).toBe(404);
  });

  it('refuses a bad schedule with 400 and the reason; a bulk array answers per entry', async () => {
    const { call } = await api();
    const bad = await call('POST', '/subject-schedules', { kind: 'remind', user: 'ann', rule: 'every 3 fortnights' });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatch(/fortnights/);
    const bulk = await call('POST', '/subject-schedules', [
      { kind: 'remind', user: 'a', rule: '1h' },
      { kind: 'remind', item: 'x', rule: '1h' },
    ]);
    expect(bulk.status).toBe(207);
    expect(bulk.body.added).toBe(1);
    expect((bulk.body.results as unknown[])[1]).toEqual({ error: expect.stringContaining('give its user') });
  });

  it('takes a bulk page of the most schedules with the most data each, and until as epoch ms', async () => {
    const { call } = await api();
    const page = Array.from({ length: 1000 }, (_, i) => ({ kind: 'note', item: `n-${i}`, data: { text: 'x'.repeat(1000) }, rule: '1h' }));
    expect(JSON.stringify(page).length).toBeGreaterThan(1_048_576);
    const bulk = await call('POST', '/subject-schedules', page);
    expect(bulk).toMatchObject({ status: 207, body: { added: 1000 } });
    const until = Date.now() + 86_400_000;
    const one = await call('POST', '/subject-schedules', { kind: 'remind', user: 'ann', rule: '1h', until: String(until) });
    expect(one).toMatchObject({ status: 201, body: { until: new Date(until).toISOString() } });
  });

  it('shows the schedules per kind on /metrics', async () => {
    const { web, call } = await api();
    await call('POST', '/subject-schedules', [
      { kind: 'remind', user: 'a', rule: '1h' },
      { kind: 'remind', user: 'b', rule: '1h' },
    ]);
    const text = await (await fetch(`${web.url}/metrics`)).text();
    expect(text).toMatch(/spotter_jobs_subject_schedules\{kind="remind"\} 2/);
    expect(text).toMatch(/spotter_jobs_schedule_behind_seconds 0/);
  });
});
