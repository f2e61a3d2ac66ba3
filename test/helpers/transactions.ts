/**
 * Counts the transactions one client sends while an action runs, as a MONITOR on the server sees
 * them: how long a single step holds Redis (and every worker's commands behind it) is a behaviour.
 */
import type { Redis } from 'ioredis';
import type { RedisClient } from '../../src/redis/connection.js';
import { waitFor } from './wait-for.js';

type Client = { stream: { localPort: number }; echo(m: string): Promise<string> };

/** The EXECs `client` sent while `action` ran; `conn` opens the monitor. */
export async function transactionsDuring(conn: RedisClient, client: unknown, action: () => Promise<unknown>): Promise<number> {
  const c = client as Client;
  const from = `:${c.stream.localPort}`;
  const monitor = await (conn as Redis).monitor();
  let execs = 0;
  let marked = false;
  monitor.on('monitor', (_time: string, argv: string[], source: string) => {
    if (!source.endsWith(from)) return;
    const command = argv[0]?.toLowerCase();
    if (command === 'exec') execs++;
    if (command === 'echo') marked = true;
  });
  try {
    await action();
    // The monitor reports commands in the order Redis ran them: once it saw this, it saw every exec.
    await c.echo('done');
    await waitFor('the monitor to catch up', () => marked);
  } finally {
    monitor.disconnect();
  }
  return execs;
}
