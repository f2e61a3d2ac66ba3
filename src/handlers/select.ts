/** Picks the one active handler mode from the configuration. */
import type { Config } from '../config.js';
import type { WorkQueue } from '../jobs/registry.js';
import { demoHandlers } from './demo.js';
import { httpHandlers } from './http.js';
import { moduleHandlers } from './module.js';
import type { Handlers } from './types.js';

export async function loadHandlers(config: Config, roles: { needsUsers: boolean; queues: readonly WorkQueue[] }): Promise<Handlers> {
  const h = config.handlers;
  switch (h.kind) {
    case 'http':
      return httpHandlers({
        url: h.url,
        secrets: h.secrets,
        timeoutMs: {
          sync: config.queues.sync.timeoutMs,
          enrichment: config.queues.enrichment.timeoutMs,
          writeback: config.queues.writeback.timeoutMs,
        },
      });
    case 'module':
      return moduleHandlers(h.path, roles);
    case 'demo':
      return demoHandlers(h);
  }
}
