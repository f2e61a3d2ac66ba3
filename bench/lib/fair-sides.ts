/**
 * The starvation run of the fair-share scenario, for either side, in this process: item kinds with a
 * handler of a few ms, 10 jobs of a small owner alone; then one owner's flood, and a moment later the
 * small owner's 10 again. spotter-jobs adds through fair admission, plain BullMQ with addBulk. The
 * flood and the small owner each add through a connection of their own, as two processes would, so
 * the small owner's adds do not queue behind the flood's on one socket.
 */
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import type { Declarations } from '../../src/config/kind-config.js';
import { loadConfig } from '../../src/config/load.js';
import { paginate } from '../../src/handlers/types.js';
import { addJob } from '../../src/jobs/add-job.js';
import { Queues } from '../../src/jobs/queues.js';
import { kindByName } from '../../src/jobs/registry.js';
import { DeadLetters } from '../../src/services/dead-letters/index.js';
import { Consumers } from '../../src/workers/consumer.js';
import { now, sleep } from './clock.js';
import { silentLog } from './spotter.js';

export interface FloodSpec {
  /** Kinds (queues) the flood is spread over; the small owner's jobs go to the first. */
  kinds: string[];
  flood: number;
  /** Item ids the flood is spread over. */
  items: number;
  small: number;
  /** Per kind and process. */
  concurrency: number;
  handlerMs: number;
  /** How long after the flood begins the small owner adds its jobs. */
  afterMs: number;
}

export interface FloodTimes {
  /** The small owner's jobs on an idle service: add → all done. */
  aloneMs: number;
  /** The same, added `afterMs` into the flood. */
  smallMs: number;
  /** The flood: first add → all done. */
  floodMs: number;
}

/** Counts the handler's ends by owner, so a run waits for events rather than polling Redis. */
class Tally {
  small = 0;
  big = 0;
  end(id: string): void {
    if (id.startsWith('small')) this.small++;
    else this.big++;
  }
  async until(cond: () => boolean, what: string, timeoutMs = 600_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!cond()) {
      if (Date.now() > deadline) throw new Error(`fair bench: timed out waiting for ${what}`);
      await sleep(2);
    }
  }
}

/** Jobs of one owner as [kind, item id, job id]. */
type Jobs = Array<[string, string, string]>;
/** One side's adds of one owner's jobs, on a connection of its own. */
type Adder = (owner: string, jobs: Jobs) => Promise<void>;

async function measure(spec: FloodSpec, tally: Tally, adders: { flood: Adder; small: Adder }): Promise<FloodTimes> {
  const small = (tag: string): Jobs =>
    Array.from({ length: spec.small }, (_, i) => [spec.kinds[0] as string, `small-${tag}${i}`, `small__${tag}${i}`]);
  let t = now();
  await adders.small('small', small('a'));
  await tally.until(() => tally.small >= spec.small, 'the small owner alone');
  const aloneMs = now() - t;
  const flood: Jobs = Array.from({ length: spec.flood }, (_, i) => [
    spec.kinds[i % spec.kinds.length] as string,
    `item-${i % spec.items}`,
    `big__${i}`,
  ]);
  const t0 = now();
  const adding = adders.flood('big', flood);
  await sleep(spec.afterMs);
  t = now();
  await adders.small('small', small('b'));
  await tally.until(() => tally.small >= 2 * spec.small, "the small owner's jobs in the flood");
  const smallMs = now() - t;
  await adding;
  await tally.until(() => tally.big >= spec.flood, 'the flood');
  return { aloneMs, smallMs, floodMs: now() - t0 };
}

const connect = (url: string) => new Redis(url, { maxRetriesPerRequest: null });

/** spotter-jobs: fair item kinds, consumed in this process. */
export async function spotterFlood(conn: Redis, url: string, p: string, spec: FloodSpec): Promise<FloodTimes> {
  const catalog: Declarations = Object.fromEntries(
    spec.kinds.map((k) => [k, { decl: { scope: 'item' as const, concurrency: spec.concurrency }, source: 'bench' }]),
  );
  const config = loadConfig({ REDIS_URL: url, SPOTTER_JOBS_PREFIX: p, SPOTTER_JOBS_LOG_LEVEL: 'info' }, catalog);
  const log = silentLog();
  const queues = new Queues(conn, config, log);
  const tally = new Tally();
  const run = async (item: { id: string }) => {
    await sleep(spec.handlerMs);
    tally.end(item.id);
  };
  const handlers = { mode: 'module' as const, listUsers: () => paginate([], 1), run: Object.fromEntries(spec.kinds.map((k) => [k, run])) };
  const consumers = new Consumers(
    { conn, config, queues, log, deadLetters: new DeadLetters(queues, config), handlers },
    Object.values(config.kinds),
  );
  consumers.start();
  const [floodQ, smallQ] = [0, 1].map(() => new Queues(connect(url), config, log)) as [Queues, Queues];
  const adder =
    (q: Queues): Adder =>
    async (owner, jobs) => {
      for (let i = 0; i < jobs.length; i += 1000) {
        await Promise.all(
          jobs.slice(i, i + 1000).map(([k, id, jobId]) => {
            const kind = kindByName(config, k);
            if (!kind) throw new Error(`no kind ${k}`);
            return addJob(q, { kind, subject: { id, data: {}, owner }, jobId, scheduledFor: Date.now() });
          }),
        );
      }
    };
  try {
    return await measure(spec, tally, { flood: adder(floodQ), small: adder(smallQ) });
  } finally {
    await consumers.close();
    for (const q of [queues, floodQ, smallQ]) await q.close();
    floodQ.conn.disconnect();
    smallQ.conn.disconnect();
  }
}

/** Plain BullMQ: a queue and a worker per kind, first in, first out. */
export async function bullmqFlood(conn: Redis, url: string, p: string, spec: FloodSpec): Promise<FloodTimes> {
  const tally = new Tally();
  const workers = spec.kinds.map(
    (k) =>
      new Worker(
        k,
        async (job) => {
          await sleep(spec.handlerMs);
          tally.end(String(job.data.id));
        },
        { connection: conn, prefix: p, concurrency: spec.concurrency, removeOnComplete: { count: 1000 } },
      ),
  );
  for (const w of workers) w.on('error', () => {});
  await Promise.all(workers.map((w) => w.waitUntilReady()));
  const conns = [connect(url), connect(url)];
  const [floodQs, smallQs] = conns.map((c) => new Map(spec.kinds.map((k) => [k, new Queue(k, { connection: c, prefix: p })]))) as [
    Map<string, Queue>,
    Map<string, Queue>,
  ];
  const adder =
    (queues: Map<string, Queue>): Adder =>
    async (owner, jobs) => {
      for (let i = 0; i < jobs.length; i += 1000) {
        const byKind = new Map<string, Array<{ name: string; data: unknown; opts: { jobId: string } }>>();
        for (const [k, id, jobId] of jobs.slice(i, i + 1000)) {
          const list = byKind.get(k) ?? [];
          list.push({ name: 'item', data: { id, data: {}, owner, scheduledFor: Date.now() }, opts: { jobId } });
          byKind.set(k, list);
        }
        await Promise.all([...byKind].map(([k, list]) => queues.get(k)?.addBulk(list)));
      }
    };
  try {
    return await measure(spec, tally, { flood: adder(floodQs), small: adder(smallQs) });
  } finally {
    await Promise.all(workers.map((w) => w.close()));
    await Promise.all([...floodQs.values(), ...smallQs.values()].map((q) => q.close()));
    for (const c of conns) c.disconnect();
  }
}
