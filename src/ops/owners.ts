/** One owner's weight and backlog in fair admission, shared by `owner weight`, the API and `user <id>`. */
import type { Config } from '../config/config.js';
import { InvalidJobError } from '../jobs/errors.js';
import { type OwnerKindBacklog, ownerBacklog } from '../jobs/fair-backlog.js';
import { checkOwner, ownerWeight, setOwnerWeight } from '../jobs/fair-weights.js';
import type { Queues } from '../jobs/queues.js';
import { kindsOf } from '../jobs/registry.js';

export interface KindOwnerBacklog extends OwnerKindBacklog {
  kind: string;
}

export interface OwnerReport {
  owner: string;
  weight: number;
  /** Per fair kind: the owner's jobs waiting for admission, now and due later. */
  backlog: KindOwnerBacklog[];
}

/** Whether the owner has jobs of the kind waiting for admission, now or due later. */
export function hasBacklog(b: KindOwnerBacklog): boolean {
  return b.waiting > 0 || b.later > 0 || b.laterAtLeast;
}

/** The owner's jobs waiting for admission, per fair kind of the catalog. */
export async function backlogOf(queues: Queues, config: Config, owner: string): Promise<KindOwnerBacklog[]> {
  const fair = kindsOf(config).filter((k) => k.fair);
  return Promise.all(fair.map(async (k) => ({ kind: k.name, ...(await ownerBacklog(queues.conn, queues.prefix, k, owner)) })));
}

export async function ownerReport(queues: Queues, config: Config, owner: string): Promise<OwnerReport> {
  checkOwner(owner);
  const [weight, backlog] = await Promise.all([ownerWeight(queues.conn, queues.prefix, owner), backlogOf(queues, config, owner)]);
  return { owner, weight, backlog };
}

/** Sets the owner's weight (the next refill of every fair kind uses it) and reports the owner. */
export async function setWeight(queues: Queues, config: Config, owner: string, weight: number): Promise<OwnerReport> {
  const all = kindsOf(config);
  const fair = all.filter((k) => k.fair);
  // Most likely the wrong prefix or Redis (no producer recorded this catalog), or no kind made fair.
  if (fair.length === 0)
    throw new InvalidJobError(
      `no kind is fair under prefix "${config.prefix}" (kinds: ${all.map((k) => k.name).join(', ')}), so a weight would change nothing; item kinds are fair by default, another kind with SPOTTER_JOBS_<KIND>_FAIR=true`,
    );
  await setOwnerWeight(queues.conn, queues.prefix, owner, weight, fair);
  return ownerReport(queues, config, owner);
}
