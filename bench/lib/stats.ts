import type { Stat } from '../report/types.js';

/** The repetitions of one measurement: median, min, max, and every run (the report pairs runs by round). */
export function stats(xs: number[]): Stat {
  const s = [...xs].sort((a, b) => a - b);
  return { median: s[Math.floor(s.length / 2)] as number, min: s[0] as number, max: s[s.length - 1] as number, runs: xs };
}
