import { n0 } from '../format.js';
import type { RedisResult } from '../types.js';

export function inProcessSection(red: RedisResult): string[] {
  if (!red.inProcess) return [];
  return [
    '### The lower bound: an in-process ticker',
    '',
    `Spotter's former design (a loop and a semaphore of 50, no Redis) runs ${n0(red.inProcess.perSecond.median)} no-op jobs/s: the price of durability, retries and scale-out is the gap between this and the throughput above. With real handlers taking 100 ms to seconds, that gap is not what limits a deployment.`,
    '',
  ];
}
