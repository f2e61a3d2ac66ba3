/**
 * The longest hash value this Redis keeps in its dense (listpack) encoding: the subject-schedule
 * scripts keep a definition in its bucket's hash only up to it. Read once per connection; a Redis
 * that refuses CONFIG (managed services often do) is taken to have the default, 64.
 */
import type { RedisClient } from './connection.js';

const DEFAULT = 64;
const known = new WeakMap<object, Promise<number>>();

async function read(conn: RedisClient): Promise<number> {
  try {
    const [, v] = (await conn.config('GET', 'hash-max-listpack-value')) as unknown as [string, string];
    const n = Number(v);
    return Number.isInteger(n) && n > 0 ? n : DEFAULT;
  } catch {
    return DEFAULT;
  }
}

export function denseValueLimit(conn: RedisClient): Promise<number> {
  let p = known.get(conn);
  if (!p) {
    p = read(conn);
    known.set(conn, p);
  }
  return p;
}
