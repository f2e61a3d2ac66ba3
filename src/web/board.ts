/** Bull Board over every queue the registry names, mounted at /board. */
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import type { QueueWorker } from '@bull-board/api/typings/app';
import { ExpressAdapter } from '@bull-board/express';
import type { Queue } from 'bullmq';
import type { Router } from 'express';
import { labelOf } from '../config/kind-title.js';
import type { Queues } from '../jobs/queues.js';
import { allQueues, DEAD_LETTER_QUEUE, kindByQueue, SCHEDULE_QUEUE } from '../jobs/registry.js';
import { censusOf, type WorkerCensus } from './worker-census.js';

const DESCRIPTIONS: Record<string, string> = {
  [SCHEDULE_QUEUE]: 'One job scheduler per scheduled kind; each tick becomes one job per user, or one job',
  [DEAD_LETTER_QUEUE]: 'Jobs that failed for good; replay or purge them with spotter-jobs dlq or the API',
};

export const BOARD_PATH = '/board';

/** Bull Board's adapter, finding a queue's workers in the census rather than in a CLIENT LIST of its own. */
class CensusAdapter extends BullMQAdapter {
  constructor(
    queue: Queue,
    private readonly census: WorkerCensus,
    options: ConstructorParameters<typeof BullMQAdapter>[1],
  ) {
    super(queue, options);
  }

  override async getWorkers(): Promise<QueueWorker[] | null> {
    return this.normalizeWorkers(await this.census.workersOf(this.getName()), ':w:');
  }
}

export function boardRouter(queues: Queues, opts: { readOnly: boolean }): Router {
  const serverAdapter = new ExpressAdapter();
  serverAdapter.setBasePath(BOARD_PATH);
  const census = censusOf(queues);
  createBullBoard({
    queues: allQueues(queues.catalog).map((name) => {
      const kind = kindByQueue(queues.catalog, name);
      return new CensusAdapter(queues.get(name), census, {
        readOnlyMode: opts.readOnly,
        // Bull Board shows the display name instead of the queue's: keep both in view.
        ...(kind?.title ? { displayName: `${kind.title} (${name})` } : {}),
        description: DESCRIPTIONS[name] ?? `${kind ? labelOf(kind) : name}: ${kind?.description} (${kind?.scope} kind)`,
        // Dead letters are kept on purpose: retrying them in place would skip the replay bookkeeping.
        allowRetries: name !== DEAD_LETTER_QUEUE,
      });
    }),
    serverAdapter,
    options: { uiConfig: { boardTitle: 'spotter-jobs', miscLinks: [{ text: 'Status', url: '/' }] } },
  });
  return serverAdapter.getRouter() as Router;
}
