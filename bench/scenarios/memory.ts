/** Memory per retained completed job: drain 10,000 and compare with an empty Redis. */
import { drainInProcess } from '../lib/drain-in-process.js';
import { prefix } from '../lib/prefix.js';
import { flush, usedMemory } from '../lib/redis.js';
import type { Scenario } from '../lib/scenario.js';

export const memory: Scenario = {
  name: 'memory',
  async run({ conn, url, red }) {
    const mem: Record<'spotter' | 'bullmq', number> = { spotter: 0, bullmq: 0 };
    for (const side of ['bullmq', 'spotter'] as const) {
      await flush(conn);
      const before = await usedMemory(conn);
      await drainInProcess(side, conn, url, prefix('m'), 10_000, 50);
      mem[side] = ((await usedMemory(conn)) - before) / 10_000;
    }
    red.memory = { completedBytesPerJob: mem };
  },
};
