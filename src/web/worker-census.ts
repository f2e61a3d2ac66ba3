/**
 * Which worker connections consume which queue, from one CLIENT LIST for every queue. BullMQ answers
 * `getWorkers()` with a CLIENT LIST per queue; the board and /metrics ask for every queue, so with a
 * thousand kinds that was a thousand lists of a thousand clients each (1.6 s per scrape, and a board
 * answering 503). Here one list, grouped by connection name and reused for a second, serves them all.
 */
import { Cluster } from 'ioredis';
import type { Queues } from '../jobs/queues.js';
import type { RedisClient } from '../redis/connection.js';
import { workerClientName } from '../redis/keys.js';

/** One line of CLIENT LIST, as BullMQ and Bull Board read it: `id`, `addr`, `name`, `age`, … */
export type RawClient = Record<string, string>;

/** BullMQ's suffix of a named worker's connection name: `<prefix>:<base64 queue>:w:<worker name>`. */
const WORKER_NAME_SEPARATOR = ':w:';
/** How long one list answers for: a board listing and a scrape at the same moment share it. */
const MAX_AGE_MS = 1000;

/** The clients of one CLIENT LIST, by the queue part of their name. */
function group(list: string): Map<string, RawClient[]> {
  const out = new Map<string, RawClient[]>();
  for (const line of list.split(/\r?\n/)) {
    const client: RawClient = {};
    for (const pair of line.split(' ')) {
      const at = pair.indexOf('=');
      if (at > 0) client[pair.slice(0, at)] = pair.slice(at + 1);
    }
    const name = client.name;
    if (!name) continue;
    const cut = name.indexOf(WORKER_NAME_SEPARATOR);
    const key = cut === -1 ? name : name.slice(0, cut);
    const clients = out.get(key);
    if (clients) clients.push(client);
    else out.set(key, [client]);
  }
  return out;
}

async function clientLists(conn: RedisClient): Promise<string[]> {
  // On a cluster each node lists its own clients; like BullMQ, a queue counts on the node where it has most.
  const nodes = conn instanceof Cluster ? conn.nodes('all') : [conn];
  return Promise.all(nodes.map(async (node) => String(await node.client('LIST'))));
}

export class WorkerCensus {
  private last: { at: number; lists: Promise<Array<Map<string, RawClient[]>>> } | undefined;

  constructor(private readonly queues: Queues) {}

  /** The worker connections consuming `queue` (each a CLIENT LIST entry), as BullMQ's getWorkers finds them. */
  async workersOf(queue: string): Promise<RawClient[]> {
    const now = Date.now();
    if (!this.last || now - this.last.at > MAX_AGE_MS) {
      const lists = clientLists(this.queues.conn).then((all) => all.map(group));
      this.last = { at: now, lists };
      // A failed list is not kept: the next caller asks again.
      lists.catch(() => {
        if (this.last?.lists === lists) this.last = undefined;
      });
    }
    const key = workerClientName(this.queues.prefix, queue);
    let best: RawClient[] = [];
    for (const byName of await this.last.lists) {
      const found = byName.get(key) ?? [];
      if (found.length > best.length) best = found;
    }
    return best;
  }
}

const censuses = new WeakMap<Queues, WorkerCensus>();

/** The census of the connection behind `queues`, shared by the board and the metrics. */
export function censusOf(queues: Queues): WorkerCensus {
  const known = censuses.get(queues);
  if (known) return known;
  const c = new WorkerCensus(queues);
  censuses.set(queues, c);
  return c;
}
