/** A long run with the default retention (10,000 completed per queue): memory must level off. */

import type { KindConfig } from '../../src/config/kind-config.js';
import { loadConfig } from '../../src/config/load.js';
import { paginate } from '../../src/handlers/types.js';
import { Queues } from '../../src/jobs/queues.js';
import { fanOut } from '../../src/producers/fan-out.js';
import { sleep } from '../lib/clock.js';
import { prefix } from '../lib/prefix.js';
import { flush, usedMemory } from '../lib/redis.js';
import type { Scenario } from '../lib/scenario.js';
import { noopSync, silentLog, users } from '../lib/spotter.js';

export const longRun: Scenario = {
  name: 'longrun',
  async run({ conn, url, sizes, red, log }) {
    await flush(conn);
    const p = prefix('long');
    const config = loadConfig({ REDIS_URL: url, SPOTTER_JOBS_PREFIX: p, SPOTTER_JOBS_LOG_LEVEL: 'warn' });
    const slog = silentLog();
    const queues = new Queues(conn, config, slog);
    const ids = users(sizes.longRunUsers);
    const consumers = noopSync(conn, config, queues, slog);
    for (let t = 1; t <= sizes.longRunTicks; t++) {
      await fanOut(
        { queues, config, log: slog, handlers: { mode: 'module', listUsers: (s) => paginate(ids, s), run: {} as never } },
        { kind: config.kinds.sync as KindConfig, tickId: `repeat:sync:${t}`, scheduledFor: t, spreadMs: 0 },
      );
      for (;;) {
        const c = await queues.get('sync').getJobCounts('waiting', 'active');
        if ((c.waiting ?? 0) + (c.active ?? 0) === 0) break;
        await sleep(20);
      }
      red.longRun.push({ tick: t, jobs: t * sizes.longRunUsers, usedMemory: await usedMemory(conn) });
    }
    await consumers.close();
    await queues.close();
    log(`long run: memory ${red.longRun.map((x) => Math.round(x.usedMemory / 2 ** 20)).join(' → ')} MiB`);
  },
};
