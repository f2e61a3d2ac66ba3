/**
 * Scripts a transaction can no longer run. ioredis sends a script's text the first time a socket
 * uses it and only its SHA after that; a NOSCRIPT answer outside a transaction makes it send the text
 * again, but inside one the answer comes with EXEC and ioredis never sees it. So when that first send
 * was refused inside a transaction (out of memory, say) or the server dropped its scripts (SCRIPT
 * FLUSH), every later transaction using the script fails the same way, until the scripts are loaded
 * again: this does that.
 */
import type { RedisClient } from './connection.js';

/** Whether a reply error is Redis' "no script with this SHA". */
export function isNoScript(err: unknown): boolean {
  return err instanceof Error && err.message.startsWith('NOSCRIPT');
}

/**
 * Loads every script defined on the connection (the service's and BullMQ's) into Redis, on every
 * primary of a cluster; resolves with how many.
 */
export async function reloadScripts(conn: RedisClient): Promise<number> {
  const scripts = Object.values((conn as unknown as { scriptsSet?: Record<string, { lua: string }> }).scriptsSet ?? {});
  const targets: RedisClient[] = 'nodes' in conn && typeof conn.nodes === 'function' ? conn.nodes('master') : [conn];
  await Promise.all(targets.flatMap((t) => scripts.map((s) => t.script('LOAD', s.lua))));
  return scripts.length;
}
