/** How the report writes numbers: counts, seconds, a median with its range, ratios. */
import type { Stat } from './types.js';

export const n0 = (x: number) => Math.round(x).toLocaleString('en-US');
export const s1 = (ms: number) => (ms / 1000).toFixed(ms < 10_000 ? 2 : 1);
export const range = (s: Stat, f: (x: number) => string) => `${f(s.median)} (${f(s.min)}–${f(s.max)})`;
export const ratio = (a: number, b: number) => (b === 0 ? '–' : `${(a / b).toFixed(2)}×`);

/**
 * A variant against the bare job: the median of the ratios within each round, whose variants run one
 * right after the other, so that this machine's minute-to-minute swings cancel out.
 */
export function paired(v: Stat | undefined, bare: Stat | undefined): string {
  if (!v || !bare) return '–';
  const r = v.runs
    .map((x, i) => x / (bare.runs[i] ?? Number.NaN))
    .filter(Number.isFinite)
    .sort((a, b) => a - b);
  if (r.length === 0) return '–';
  const mid = r.length % 2 ? (r[(r.length - 1) / 2] as number) : ((r[r.length / 2 - 1] as number) + (r[r.length / 2] as number)) / 2;
  return `${mid.toFixed(2)}× (${(r[0] as number).toFixed(2)}–${(r[r.length - 1] as number).toFixed(2)})`;
}

export const mib = (b: number) => (b / 2 ** 20).toFixed(1);
