/** The benchmark's Redis: emptied between runs, and read for its memory and CPU figures. */
import type { Redis } from 'ioredis';
import { sleep } from './clock.js';

export async function flush(conn: Redis): Promise<void> {
  await conn.flushall();
  await sleep(50);
}

export async function usedMemory(conn: Redis): Promise<number> {
  const info = await conn.info('memory');
  return Number(/used_memory:(\d+)/.exec(info)?.[1] ?? 0);
}

export async function redisCpuSeconds(conn: Redis): Promise<number> {
  const info = await conn.info('cpu');
  return Number(/used_cpu_user:([\d.]+)/.exec(info)?.[1] ?? 0) + Number(/used_cpu_sys:([\d.]+)/.exec(info)?.[1] ?? 0);
}

/** Redis memory of a prefix's user-history hashes (exact, not sampled) and the records they hold. */
export async function historyMemory(conn: Redis, p: string): Promise<{ bytes: number; records: number }> {
  let cursor = '0';
  let bytes = 0;
  let records = 0;
  do {
    const [next, keys] = await conn.scan(cursor, 'MATCH', `${p}:spotter-jobs:history:*`, 'COUNT', 1000);
    cursor = next;
    for (const k of keys) {
      bytes += Number((await conn.memory('USAGE', k, 'SAMPLES', '0')) ?? 0);
      records += await conn.hlen(k);
    }
  } while (cursor !== '0');
  return { bytes, records };
}
