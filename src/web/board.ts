/** Bull Board over every queue the registry names, mounted at /board. */
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { Router } from 'express';
import { labelOf } from '../jobs/kind-title.js';
import type { Queues } from '../jobs/queues.js';
import { allQueues, DEAD_LETTER_QUEUE, kindByQueue, SCHEDULE_QUEUE } from '../jobs/registry.js';

const DESCRIPTIONS: Record<string, string> = {
  [SCHEDULE_QUEUE]: 'One job scheduler per scheduled kind; each tick becomes one job per user, or one job',
  [DEAD_LETTER_QUEUE]: 'Jobs that failed for good; replay or purge them with spotter-jobs dlq or the API',
};

export const BOARD_PATH = '/board';

export function boardRouter(queues: Queues, opts: { readOnly: boolean }): Router {
  const serverAdapter = new ExpressAdapter();
  serverAdapter.setBasePath(BOARD_PATH);
  createBullBoard({
    queues: allQueues(queues.settings).map((name) => {
      const kind = kindByQueue(queues.settings, name);
      return new BullMQAdapter(queues.get(name), {
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
