/** `forget <kind> --yes`: removes the queue and dead letters a kind left behind when it left the catalog. */
import type { Config } from '../config/config.js';
import { ForgetRefused, forgetKind } from '../ops/forget.js';
import { type Out, UsageError, withCatalog } from './session.js';

export async function forgetCommand(config: Config, name: string, opts: { yes?: boolean; json?: boolean }, out: Out): Promise<void> {
  if (!opts.yes)
    throw new UsageError(
      `forget removes every job and dead letter of "${name}" for good; add --yes to do it (spotter-jobs status lists what is left behind)`,
    );
  const r = await withCatalog(config, (q, c) => forgetKind(q, c, name)).catch((err: unknown) => {
    if (err instanceof ForgetRefused) throw new UsageError(err.message);
    throw err;
  });
  if (opts.json) return out(JSON.stringify(r));
  out(`forgot ${r.kind}: removed queue ${r.queue} with ${r.jobs} job(s) and ${r.deadLetters} dead letter(s)`);
}
