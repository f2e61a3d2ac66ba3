/**
 * The leak check after every test file (a setup file of both suites), on the model of graphile-worker's
 * and river's test helpers: a file that leaves something behind fails, naming what it left.
 * - Keys: none may remain on the suite's Redis under a prefix `newPrefix()` handed to this file.
 *   (Private redis-servers a test starts are stopped with everything in them; only the shared one is scanned.)
 * - Handles: no more sockets, servers, child processes, pipes or timers (unref'd timers are not listed
 *   by Node) than when the file started, after a short grace for connections that are still closing.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, inject } from 'vitest';
import { prefixesHandedOut } from './redis.js';

/** The resource types Node lists that a test opens and must close (`process.getActiveResourcesInfo()`). */
const WATCHED = new Set(['TCPSocketWrap', 'TCPWRAP', 'TCPServerWrap', 'ProcessWrap', 'PipeWrap', 'Pipe', 'Timeout']);
/** How long closing connections and exiting children get before what is still open counts as leaked. */
const GRACE_MS = 2000;
const KEYS_NAMED = 5;

interface Start {
  counts: Map<string, number>;
  handles: Set<unknown>;
}
let start: Start | undefined;

beforeAll(() => {
  start = { counts: countResources(), handles: new Set(activeHandles()) };
});

afterAll(async () => {
  if (!start) return;
  const problems = [...(await handlesLeft(start)), ...(await keysLeft())];
  if (problems.length > 0) throw new Error(`leak check: this file left ${problems.join('; ')}`);
});

function countResources(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const type of process.getActiveResourcesInfo()) if (WATCHED.has(type)) counts.set(type, (counts.get(type) ?? 0) + 1);
  return counts;
}

function grown(before: Map<string, number>): string[] {
  return [...countResources()]
    .filter(([type, n]) => n > (before.get(type) ?? 0))
    .map(([type, n]) => `${type} ${before.get(type) ?? 0} -> ${n}`);
}

async function handlesLeft(s: Start): Promise<string[]> {
  const deadline = Date.now() + GRACE_MS;
  let more = grown(s.counts);
  while (more.length > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    more = grown(s.counts);
  }
  if (more.length === 0) return [];
  const named = activeHandles()
    .filter((h) => !s.handles.has(h))
    .map(describeHandle);
  return [`open handles (${more.join(', ')})${named.length > 0 ? `: ${named.join(', ')}` : ''}`];
}

/** Node's own list of handle objects: undocumented, used only to name what leaked. */
function activeHandles(): unknown[] {
  const list = (process as unknown as { _getActiveHandles?: () => unknown[] })._getActiveHandles;
  return list ? list.call(process) : [];
}

function describeHandle(h: unknown): string {
  const o = h as Record<string, unknown> & { constructor: { name: string } };
  if (Array.isArray(o.spawnargs)) return `child process ${o.pid} (${(o.spawnargs as string[]).join(' ').slice(0, 120)})`;
  if (typeof o.address === 'function' && o.constructor.name === 'Server')
    return `server ${JSON.stringify((o.address as () => unknown).call(o))}`;
  if (typeof o.remotePort === 'number') return `socket to ${String(o.remoteAddress)}:${o.remotePort}`;
  const inner = (o._handle as { constructor?: { name: string } } | null | undefined)?.constructor?.name;
  if (inner === 'Pipe') return 'pipe (a child process stdio?)';
  return o.constructor.name;
}

async function keysLeft(): Promise<string[]> {
  const url = inject('redisUrl');
  const prefixes = prefixesHandedOut();
  if (!url || prefixes.length === 0) return [];
  const conn = new Redis(url, { maxRetriesPerRequest: 1, lazyConnect: true });
  conn.on('error', () => {});
  try {
    await conn.connect();
    const problems: string[] = [];
    for (const prefix of prefixes) {
      const keys = await scanPrefix(conn, prefix);
      if (keys.length > 0)
        problems.push(`keys under prefix ${prefix} (${keys.slice(0, KEYS_NAMED).join(', ')}${keys.length > KEYS_NAMED ? ', …' : ''})`);
    }
    return problems;
  } finally {
    conn.disconnect();
  }
}

async function scanPrefix(conn: Redis, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await conn.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    keys.push(...batch);
  } while (cursor !== '0' && keys.length <= KEYS_NAMED);
  return keys;
}
