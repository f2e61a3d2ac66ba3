/** Pause and resume one schedule: from the CLI, the API and the status page. */
import { afterEach, describe, expect, it } from 'vitest';
import { TickConsumer } from '../src/producers/tick-consumer.js';
import { lastTick, tickHistory } from '../src/schedules/tick-record.js';
import { testHandlers } from './helpers/handlers.js';
import { type Harness, harness, reconcileAsProducer } from './helpers/harness.js';
import { testEnv } from './helpers/redis.js';
import { runCli } from './helpers/spawn-cli.js';
import { serveApp } from './helpers/web.js';

const open: Harness[] = [];
afterEach(async () => {
  for (const x of open.splice(0)) await x.dispose();
});

describe('pause and resume', () => {
  it('skips ticks while paused, survives reconciliation, lets trigger run, and resumes on the same cadence', async () => {
    const x = await harness({ SPOTTER_JOBS_DEMO_USERS: '3' });
    open.push(x);
    await reconcileAsProducer(x);
    const env = testEnv(x.prefix);
    const before = (await x.queues.schedules().getJobScheduler('enrichment'))?.next;

    const p = await runCli(['pause', 'enrichment'], env);
    expect(p.code, p.stderr).toBe(0);
    expect(p.stdout).toContain('enrichment paused');
    // A producer restart reconciles: the pause stays, and so does the cadence.
    await reconcileAsProducer(x);
    expect((await x.queues.schedules().getJobScheduler('enrichment'))?.next).toBe(before);
    const st = JSON.parse((await runCli(['status', '--json'], env)).stdout) as { schedules: Array<{ name: string; paused: boolean }> };
    expect(st.schedules.find((s) => s.name === 'enrichment')?.paused).toBe(true);
    expect(st.schedules.find((s) => s.name === 'sync')?.paused).toBe(false);

    const ticks = new TickConsumer({ ...x, handlers: testHandlers(['u1', 'u2', 'u3']) });
    const tick = await x.queues.schedules().add('tick', { schedule: 'enrichment' }, { jobId: 'repeat:enrichment:1' });
    expect(await ticks.process(tick)).toMatchObject({ result: 'paused', added: 0 });
    expect(await x.queues.get('enrichment').getWaitingCount()).toBe(0);
    expect(await lastTick(x.conn, x.prefix, 'enrichment')).toBeUndefined();
    expect((await tickHistory(x.conn, x.prefix, 'enrichment'))[0]?.result).toBe('paused');

    // trigger still works, and says the schedule is paused.
    const t = await runCli(['trigger', 'enrichment'], env);
    expect(t.code).toBe(0);
    expect(t.stdout).toMatch(/enrichment is paused: this manual run goes ahead/);
    const manual = await x.queues.schedules().getJob(JSON.parse((await runCli(['trigger', 'enrichment', '--json'], env)).stdout).jobId);
    expect(await ticks.process(manual as NonNullable<typeof manual>)).toMatchObject({ result: 'ok', added: 3 });

    expect((await runCli(['resume', 'enrichment'], env)).stdout).toContain('enrichment resumed');
    const next = await x.queues.schedules().add('tick', { schedule: 'enrichment' }, { jobId: 'repeat:enrichment:2' });
    expect(await ticks.process(next)).toMatchObject({ result: 'ok' });
    expect((await x.queues.schedules().getJobScheduler('enrichment'))?.next).toBe(before);
    expect((await runCli(['pause', 'nope'], env)).code).toBe(2);
  });

  it('works from the API, the status page form and shows in /metrics', async () => {
    const x = await harness();
    open.push(x);
    await reconcileAsProducer(x);
    const web = await serveApp(x);
    const pause = await fetch(`${web.url}/api/schedules/sync/pause`, { method: 'POST' });
    expect(await pause.json()).toEqual({ schedule: 'sync', paused: true, changed: true });
    expect((await (await fetch(`${web.url}/metrics`)).text()).match(/^spotter_jobs_schedule_paused\{schedule="sync"\} 1$/m)).toBeTruthy();
    const page = await (await fetch(`${web.url}/`)).text();
    expect(page).toContain('<form method="post" action="/api/schedules/sync/resume"><button type="submit">Resume</button></form>');
    // The page's button: a plain form POST, answered with a redirect back to the page.
    const form = await fetch(`${web.url}/api/schedules/sync/resume`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: web.url },
      body: '',
      redirect: 'manual',
    });
    expect(form.status).toBe(303);
    expect(form.headers.get('location')).toBe('/');
    const schedules = (await (await fetch(`${web.url}/api/schedules`)).json()) as Array<{ name: string; paused: boolean }>;
    expect(schedules.find((s) => s.name === 'sync')?.paused).toBe(false);
    expect((await fetch(`${web.url}/api/schedules/nope/pause`, { method: 'POST' })).status).toBe(404);
  });
});
