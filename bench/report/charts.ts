/** The charts of docs/benchmarks.md: fan-out time against users, and throughput against worker processes. */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { lineChart } from './line-chart.js';
import type { BenchResult, RedisResult } from './types.js';

const colors = ['#1f6feb', '#8250df', '#2da44e', '#bf8700'];

function fanSeries(red: RedisResult, side: 'spotter' | 'bullmq', color: string) {
  return {
    name: `${side === 'spotter' ? 'spotter-jobs' : 'plain BullMQ'} (${red.persistence})`,
    color,
    points: red.fanout.map((f) => [f.users, (side === 'spotter' ? f.spotterMs : f.bullmqMs).median / 1000] as [number, number]),
  };
}

export function fanoutChart(r: BenchResult): string {
  return lineChart({
    title: 'Fan-out: time to enqueue one tick',
    xLabel: 'users (log scale)',
    yLabel: 'seconds (log scale)',
    logX: true,
    logY: true,
    series: r.redis.flatMap((red, i) => [
      fanSeries(red, 'spotter', colors[i * 2] as string),
      fanSeries(red, 'bullmq', colors[i * 2 + 1] as string),
    ]),
  });
}

/** Scale-out on the first Redis (the one without persistence: only it runs the scenario). */
export function scaleChart(r: BenchResult, base: RedisResult): string {
  return lineChart({
    title: `Throughput vs worker processes (${r.machine.cores} cores)`,
    xLabel: 'worker processes',
    yLabel: 'jobs/s',
    series: [
      { name: 'spotter-jobs', color: colors[0] as string, points: base.scale.map((s) => [s.processes, s.spotter.median]) },
      { name: 'plain BullMQ', color: colors[1] as string, points: base.scale.map((s) => [s.processes, s.bullmq.median]) },
    ],
  });
}

export function writeCharts(r: BenchResult, base: RedisResult, root: string): void {
  writeFileSync(resolve(root, 'docs/bench-fanout.svg'), fanoutChart(r));
  writeFileSync(resolve(root, 'docs/bench-scale.svg'), scaleChart(r, base));
}
