/** docs/benchmarks.md and its two charts, generated from a run's figures, never edited by hand. */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { writeCharts } from './charts.js';
import { ablationSection } from './sections/ablation.js';
import { fairSection } from './sections/fair.js';
import { fanoutSection } from './sections/fanout.js';
import { findingsSection } from './sections/findings.js';
import { headerSection } from './sections/header.js';
import { inProcessSection } from './sections/in-process.js';
import { makespanSection } from './sections/makespan.js';
import { memorySection } from './sections/memory.js';
import { policiesSection } from './sections/policies.js';
import { profilesSection } from './sections/profiles.js';
import { scaleSection } from './sections/scale.js';
import { subjectSchedulesSection } from './sections/subject-schedules.js';
import { throughputSection } from './sections/throughput.js';
import { tickLagSection } from './sections/tick-lag.js';
import { windowSection } from './sections/window.js';
import { workerAblationSection } from './sections/worker-ablation.js';
import type { BenchResult, RedisResult } from './types.js';

/** The sections under each Redis's heading, in page order; one with nothing measured writes nothing. */
const perRedis: Array<(red: RedisResult, r: BenchResult) => string[]> = [
  throughputSection,
  workerAblationSection,
  fanoutSection,
  ablationSection,
  scaleSection,
  memorySection,
  tickLagSection,
  makespanSection,
  policiesSection,
  windowSection,
  inProcessSection,
  subjectSchedulesSection,
  fairSection,
];

export function writeReport(r: BenchResult, root: string): void {
  const base = r.redis[0];
  if (!base) return;
  const lines = headerSection(r, base);
  for (const red of r.redis) {
    lines.push(`## Redis persistence: ${red.persistence}`, '');
    for (const section of perRedis) lines.push(...section(red, r));
  }
  lines.push(...findingsSection(r), '');
  lines.push(...profilesSection());
  writeFileSync(resolve(root, 'docs/benchmarks.md'), `${lines.join('\n')}\n`);
  writeCharts(r, base, root);
}
