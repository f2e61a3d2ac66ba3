/** The cluster-wide concurrency cap of a kind has one owner, the producer: workers leave it alone. */
import { describe, expect, it } from 'vitest';
import { applyGlobalLimits } from '../src/producers/main.js';
import { kinds, testHandlers } from './helpers/handlers.js';
import { harness } from './helpers/harness.js';
import { useHarnesses } from './helpers/in-process.js';
import { runCli } from './helpers/spawn-cli.js';

const { h } = useHarnesses();

describe('the cluster-wide cap has one owner: the producer', () => {
  it('survives a worker restart and a producer restart, and only the producer help lists it', async () => {
    const x = await h({ SPOTTER_JOBS_SYNC_GLOBAL_CONCURRENCY: '3' });
    await applyGlobalLimits(x);
    expect(await x.queues.get('sync').getGlobalConcurrency()).toBe(3);
    // A worker, started with no such variable, leaves the cap alone.
    const w = await harness({}, { prefix: x.prefix });
    const { startWorker } = await import('../src/workers/main.js');
    await startWorker(w, kinds(w.config, 'sync'), { handlers: testHandlers([]), retention: false });
    await w.lifecycle.shutdown();
    expect(await x.queues.get('sync').getGlobalConcurrency()).toBe(3);
    // A producer restarted with the same configuration keeps it.
    await applyGlobalLimits(x);
    expect(await x.queues.get('sync').getGlobalConcurrency()).toBe(3);
    const help = await runCli(['worker', '--help'], {});
    expect(help.stdout).not.toContain('GLOBAL_CONCURRENCY');
    expect((await runCli(['producer', '--help'], {})).stdout).toContain('SPOTTER_JOBS_SYNC_GLOBAL_CONCURRENCY');
  });
});
