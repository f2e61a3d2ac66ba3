/** A schedule edited outside its configuration: refused on the board, repaired by the next reconciliation. */
import { describe, expect, it } from 'vitest';
import { capturingLogger, reconcileAsProducer } from './helpers/harness.js';
import { useHarnesses } from './helpers/in-process.js';
import { serveApp } from './helpers/web.js';

const { h } = useHarnesses();

describe('a schedule edited outside its configuration', () => {
  it('refuses scheduler edits on the board, and reconciliation repairs edits made elsewhere', async () => {
    const { log, lines } = capturingLogger('warn');
    const x = await h({}, { log });
    await reconcileAsProducer(x);
    const web = await serveApp(x);
    const patch = await fetch(`${web.url}/board/api/queues/schedules/job-schedulers/sync`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ every: 3_600_000 }),
    });
    expect(patch.status).toBe(403);
    expect((await x.queues.schedules().getJobScheduler('sync'))?.every).toBe(300_000);
    // The same edit through BullMQ itself (redis-cli, another tool): the fingerprint still matches.
    const cur = await x.queues.schedules().getJobScheduler('sync');
    await x.queues
      .schedules()
      .upsertJobScheduler('sync', { every: 3_600_000 }, { name: 'tick', data: cur?.template?.data, opts: cur?.template?.opts });
    const r = await reconcileAsProducer(x);
    expect(r.repaired).toEqual(['sync']);
    expect(r.unchanged.sort()).toEqual(['enrichment', 'write-back']);
    expect((await x.queues.schedules().getJobScheduler('sync'))?.every).toBe(300_000);
    expect(lines.find((l) => String(l.msg).includes('drifted'))).toMatchObject({ schedule: 'sync', changes: ['every 3600000 -> 300000'] });
  });
});
