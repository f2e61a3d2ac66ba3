/** Picks the one active handler mode from the configuration. */

import type { Config } from '../config/config.js';
import type { KindConfig } from '../config/kind-config.js';
import { kindsOf } from '../jobs/registry.js';
import { demoHandlers } from './demo.js';
import { httpHandlers } from './http.js';
import { moduleHandlers } from './module.js';
import type { Handlers } from './types.js';

/** `kinds`: the kinds this process will consume, whose handlers must exist. */
export async function loadHandlers(config: Config, roles: { needsUsers: boolean; kinds: readonly KindConfig[] }): Promise<Handlers> {
  const h = config.handlers;
  switch (h.kind) {
    case 'http':
      return httpHandlers({
        url: h.url,
        authorization: h.authorization,
        secrets: h.secrets,
        kinds: kindsOf(config),
        graceMs: config.timeoutGraceMs,
      });
    case 'module':
      return moduleHandlers(h.path, kindsOf(config), roles);
    case 'demo':
      return demoHandlers({ ...h, kinds: kindsOf(config) });
  }
}
