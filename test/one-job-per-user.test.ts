/** A user has one job waiting per kind, whoever adds it: `trigger --user` and a replay join the job that has not started. */
import { describe, expect, it } from 'vitest';
import { PermanentError } from '../src/jobs/errors.js';
import { optionsFor } from './helpers/handlers.js';
import { addUserJob, useHarnesses } from './helpers/in-process.js';
import { testEnv } from './helpers/redis.js';
import { runCli } from './helpers/spawn-cli.js';
import { waitFor } from './helpers/wait-for.js';

const { h, consume } = useHarnesses();

describe('one user, one job at a time, whoever adds it', () => {
  it('coalesces trigger --user and a replay into the user job that has not started', async () => {
    const x = await h({ SPOTTER_JOBS_ATTEMPTS: '1' });
    // A job of user u1 waits (no worker yet).
    const waiting = await x.queues
      .get('sync')
      .add(
        'user',
        { userId: 'u1', scheduledFor: 1, tick: 'tick1' },
        { ...optionsFor(x.config, 'sync'), jobId: 'tick1__u1', deduplication: { id: 'u1', keepLastIfActive: true } },
      );
    const t = await runCli(['trigger', 'sync', '--user', 'u1', '--json'], testEnv(x.prefix));
    expect(t.code, t.stderr).toBe(0);
    expect(JSON.parse(t.stdout)).toMatchObject({ jobId: waiting.id, coalesced: true });
    expect(await x.queues.get('sync').getWaitingCount()).toBe(1);
    const said = await runCli(['trigger', 'sync', '--user', 'u1'], testEnv(x.prefix));
    expect(said.stdout).toMatch(/coalesced into it/);

    // A dead letter of u2, replayed while u2 has a job waiting: merged into it, not a second job.
    const c = consume(x, async () => {
      throw new PermanentError('broken');
    });
    await addUserJob(x, 'u2');
    await waitFor('u2 dead-lettered', async () => (await x.deadLetters.list()).some((d) => d.id === 'sync__t__u2'));
    await c.close();
    await x.queues
      .get('sync')
      .add(
        'user',
        { userId: 'u2', scheduledFor: 2, tick: 'tick2' },
        { ...optionsFor(x.config, 'sync'), jobId: 'tick2__u2', deduplication: { id: 'u2', keepLastIfActive: true } },
      );
    const r = await x.deadLetters.replay({ ids: ['sync__t__u2'] });
    expect(r.replayed).toEqual(['t__u2__replay']);
    expect(await x.queues.get('sync').getJob('t__u2__replay')).toBeUndefined();
    const u2 = (await x.queues.get('sync').getWaiting()).filter((j) => j.data.userId === 'u2');
    expect(u2.map((j) => j.id)).toEqual(['tick2__u2']);
  });
});
