/** CPU time of the benchmark's child processes (read from /proc, Linux) and of Redis, per job. */
import { readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';
import { redisCpuSeconds } from './redis.js';

/** Clock ticks per second of /proc/<pid>/stat's times; 100 on Linux. */
const TICKS = 100;

/** User + system CPU time of `pid` so far, in ms; NaN where /proc cannot tell. */
export function processCpuMs(pid: number | undefined): number {
  if (pid === undefined) return Number.NaN;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The fields after the command's closing parenthesis: utime and stime are the 12th and 13th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS;
  } catch {
    return Number.NaN;
  }
}

/** Starts counting the CPU of `pids` and of Redis; the function returned gives each per job (µs) since. */
export async function cpuMeter(
  conn: Redis,
  pids: Array<number | undefined>,
): Promise<(jobs: number) => Promise<{ processesUs: number; redisUs: number }>> {
  const sum = () => pids.reduce<number>((a, pid) => a + processCpuMs(pid), 0);
  const processes0 = sum();
  const redis0 = await redisCpuSeconds(conn);
  return async (jobs) => ({
    processesUs: ((sum() - processes0) * 1000) / jobs,
    redisUs: (((await redisCpuSeconds(conn)) - redis0) * 1e6) / jobs,
  });
}
