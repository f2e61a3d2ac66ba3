/** Turns a benchmark result into docs/benchmarks.md and two SVG charts, generated, never hand-drawn. */
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';

export interface Stat {
  median: number;
  min: number;
  max: number;
  runs: number[];
}

export interface WorkerCost {
  perSecond: Stat;
  nodeUs: Stat;
  redisUs: Stat;
}

export interface BenchResult {
  date: string;
  /** Set when the figures come from several `--only` runs of the same code, merged by `--merge`. */
  mergedFrom?: string[];
  quick: boolean;
  reps: number;
  machine: { cores: number; cpu: string; memoryGiB: number; node: string };
  sizes: Record<string, unknown>;
  redis: Array<{
    persistence: string;
    version: string;
    throughput: Array<{ concurrency: number; jobs: number; spotter: Stat; bullmq: Stat }>;
    /** Where worker time goes: jobs/s and CPU per job (µs) of Node and Redis, per variant; absent in older runs. */
    workerAblation?: {
      concurrency: number;
      jobs: number;
      plain: WorkerCost;
      plainWorkerSpotterJobs: WorkerCost;
      spotter: WorkerCost;
    };
    fanout: Array<{
      users: number;
      spotterMs: Stat;
      bullmqMs: Stat;
      spotterBytesPerJob: Stat;
      bullmqBytesPerJob: Stat;
      spotterDrainMs?: Stat;
      bullmqDrainMs?: Stat;
    }>;
    ablation: Array<{
      users: number;
      plain: Stat;
      ids: Stat;
      idsAndCoalescing: Stat;
      /** Redis bytes per waiting job of each variant (median); absent in older runs. */
      bytesPerJob?: { plain: number; ids: number; idsAndCoalescing: number };
    }>;
    scale: Array<{ processes: number; jobs: number; spotter: Stat; bullmq: Stat }>;
    memory: { completedBytesPerJob: { spotter: number; bullmq: number } } | undefined;
    longRun: Array<{ tick: number; jobs: number; usedMemory: number }>;
    tickLag: { spotter: Stat; bullmq: Stat } | undefined;
    inProcess: { jobs: number; perSecond: Stat } | undefined;
    /** Exclusivity and user history: sync as shipped, without its group, and plain BullMQ. */
    policies?: {
      concurrency: number;
      jobs: number;
      /** Absent in runs before the group's lane. */
      bare?: Stat;
      exclusive: Stat;
      shared?: Stat;
      none: Stat;
      bullmq: Stat;
      historyBytesPerUser: number;
    };
    /** One tick drained by one worker process: Redis peak above idle (bytes) and time until all done (ms). */
    window?: Array<{
      users: number;
      spotterPeak: number;
      bullmqPeak: number;
      spotterMs: number;
      bullmqMs: number;
      historyBytes?: number;
      /** The next tick, in the steady state (absent in runs before it was measured). */
      spotterNextPeak?: number;
      bullmqNextPeak?: number;
      spotterNextMs?: number;
      bullmqNextMs?: number;
    }>;
  }>;
}

/**
 * Figures as JSON the way the repository's formatter (Biome, lines of 140) writes it: indented by two,
 * an array of numbers on one line where it fits. A results file then passes the lint step as written.
 */
export function resultsJson(value: unknown): string {
  const text = JSON.stringify(value, null, 2).replace(
    /^( *)("[^"\n]*": )?\[\n((?:\1  -?[\d.e+-]+,?\n)+)\1\]/gm,
    (whole, indent: string, key = '', items: string) => {
      const line = `${indent}${key}[${items
        .split('\n')
        .map((x) => x.trim().replace(/,$/, ''))
        .filter(Boolean)
        .join(', ')}]`;
      return line.length <= 140 ? line : whole;
    },
  );
  return `${text}\n`;
}

const n0 = (x: number) => Math.round(x).toLocaleString('en-US');
const s1 = (ms: number) => (ms / 1000).toFixed(ms < 10_000 ? 2 : 1);
const range = (s: Stat, f: (x: number) => string) => `${f(s.median)} (${f(s.min)}–${f(s.max)})`;
const ratio = (a: number, b: number) => (b === 0 ? '–' : `${(a / b).toFixed(2)}×`);

/**
 * A variant against the bare job: the median of the ratios within each round, whose variants run one
 * right after the other, so that this machine's minute-to-minute swings cancel out.
 */
function paired(v: Stat | undefined, bare: Stat | undefined): string {
  if (!v || !bare) return '–';
  const r = v.runs
    .map((x, i) => x / (bare.runs[i] ?? Number.NaN))
    .filter(Number.isFinite)
    .sort((a, b) => a - b);
  if (r.length === 0) return '–';
  const mid = r.length % 2 ? (r[(r.length - 1) / 2] as number) : ((r[r.length / 2 - 1] as number) + (r[r.length / 2] as number)) / 2;
  return `${mid.toFixed(2)}× (${(r[0] as number).toFixed(2)}–${(r[r.length - 1] as number).toFixed(2)})`;
}

/** A minimal line chart: x and y linear or log, one polyline per series, axis ticks labelled. */
function lineChart(opts: {
  title: string;
  xLabel: string;
  yLabel: string;
  logX?: boolean;
  logY?: boolean;
  series: Array<{ name: string; color: string; points: Array<[number, number]> }>;
}): string {
  const W = 640;
  const H = 380;
  const L = 70;
  const R = 40;
  const T = 40;
  const B = 50;
  const xs = opts.series.flatMap((s) => s.points.map((p) => p[0]));
  const ys = opts.series.flatMap((s) => s.points.map((p) => p[1]));
  const fx = (x: number) => (opts.logX ? Math.log10(x) : x);
  const [x0, x1] = [Math.min(...xs.map(fx)), Math.max(...xs.map(fx))];
  const y1 = Math.max(...ys) * 1.1 || 1;
  // Log-log: a straight line of slope 1 is time growing linearly with size.
  const ly0 = Math.floor(Math.log10(Math.min(...ys)));
  const ly1 = Math.ceil(Math.log10(Math.max(...ys)));
  const px = (x: number) => L + ((fx(x) - x0) / (x1 - x0 || 1)) * (W - L - R);
  const py = (y: number) => (opts.logY ? H - B - ((Math.log10(y) - ly0) / (ly1 - ly0 || 1)) * (H - T - B) : H - B - (y / y1) * (H - T - B));
  const ticksX = [...new Set(xs)].sort((a, b) => a - b);
  const ticksY = opts.logY
    ? Array.from({ length: ly1 - ly0 + 1 }, (_, i) => 10 ** (ly0 + i))
    : Array.from({ length: 5 }, (_, i) => (y1 / 5) * (i + 1));
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="22" text-anchor="middle" font-size="15">${esc(opts.title)}</text>`,
    `<line x1="${L}" y1="${H - B}" x2="${W - R}" y2="${H - B}" stroke="#333"/><line x1="${L}" y1="${T}" x2="${L}" y2="${H - B}" stroke="#333"/>`,
    ...ticksX.map((x) => `<text x="${px(x)}" y="${H - B + 16}" text-anchor="middle">${n0(x)}</text>`),
    ...ticksY.map(
      (y) =>
        `<line x1="${L}" y1="${py(y)}" x2="${W - R}" y2="${py(y)}" stroke="#eee"/><text x="${L - 6}" y="${py(y) + 4}" text-anchor="end">${y >= 100 ? n0(y) : y >= 1 ? y.toFixed(1) : String(y)}</text>`,
    ),
    `<text x="${W / 2}" y="${H - 12}" text-anchor="middle">${esc(opts.xLabel)}</text>`,
    `<text x="16" y="${H / 2}" text-anchor="middle" transform="rotate(-90 16 ${H / 2})">${esc(opts.yLabel)}</text>`,
  ];
  opts.series.forEach((s, i) => {
    const pts = s.points.map(([x, y]) => `${px(x).toFixed(1)},${py(y).toFixed(1)}`).join(' ');
    parts.push(`<polyline fill="none" stroke="${s.color}" stroke-width="2" points="${pts}"/>`);
    for (const [x, y] of s.points) parts.push(`<circle cx="${px(x)}" cy="${py(y)}" r="3" fill="${s.color}"/>`);
    parts.push(
      `<rect x="${L + 10}" y="${T + 6 + i * 18}" width="12" height="12" fill="${s.color}"/><text x="${L + 28}" y="${T + 16 + i * 18}">${esc(s.name)}</text>`,
    );
  });
  parts.push('</svg>');
  return parts.join('\n');
}

/**
 * This round's findings on the targets still missed, with the figures of this run where the run
 * measures them (the per-feature costs come from profiling runs, named as such).
 */
function findings(r: BenchResult): string[] {
  const red = r.redis[0];
  if (!red) return [];
  const at = (n: number) => red.fanout.find((f) => f.users === n) ?? red.fanout[red.fanout.length - 1];
  const f = at(100_000);
  const abl = red.ablation.find((a) => a.users === f?.users) ?? red.ablation[red.ablation.length - 1];
  const w = red.workerAblation;
  const out = ['## Where the remaining gaps are (this run)', ''];
  if (f) {
    const bytes = `${n0(f.spotterBytesPerJob.median)} B against ${n0(f.bullmqBytesPerJob.median)} B (${ratio(f.spotterBytesPerJob.median, f.bullmqBytesPerJob.median)})`;
    const enqueue = ratio(f.bullmqMs.median, f.spotterMs.median);
    out.push(
      `- **Fixed: long job ids.** A fan-out job's id was \`repeat_sync_<13 digits>__<user>\`, its coalescing id \`<queue>:<user>\`, and its data repeated the tick id. A waiting job holds its id four times in Redis (its key, the wait list, its options, the value of its coalescing key). The id is now \`<due time in base 36>__<user>\`, the coalescing id is the user id (BullMQ keeps the key under the queue's own keys), and the tick is read back from the id. Job hash 408 → 328 B, coalescing key 120 → 88 B; per waiting job at ${n0(f.users)} users ${bytes}, from 607 B against 417 B (1.46×) before. Enqueueing is faster with it: ${enqueue} of plain BullMQ's rate (0.71× before).`,
    );
    if (abl?.bytesPerJob) {
      const b = abl.bytesPerJob;
      out.push(
        `- **Memory per waiting job: what remains is coalescing.** Plain BullMQ's own jobs take ${n0(b.plain)} B; with per-tick ids ${n0(b.ids)} B; with ids and coalescing (deduplication) ${n0(b.idsAndCoalescing)} B; spotter-jobs' ${n0(f.spotterBytesPerJob.median)} B (the ablation table above). So a spotter-jobs job is smaller than plain BullMQ's with the same guarantees, and what separates it from a plain job is BullMQ's deduplication: a key per waiting job, and its id again in the job's hash and options. ≤ 1.1× would need coalescing without a key per waiting job (say a field per user in a shared hash, set and cleared by scripts of our own around BullMQ's add and finish), which would replace the BullMQ deduplication that keeps coalescing exact: decided inside the add, released inside the finish. Not done; with the windowed fan-out at most a window of jobs waits, so this is bytes per job of the window, not of the tick.`,
      );
    }
  }
  if (w) {
    const shape = ratio(w.plainWorkerSpotterJobs.perSecond.median, w.plain.perSecond.median);
    const worker = ratio(w.spotter.perSecond.median, w.plainWorkerSpotterJobs.perSecond.median);
    out.push(
      `- **Worker throughput: where it goes.** Plain BullMQ's worker runs spotter-jobs' jobs at ${shape} of its rate on its own jobs (BullMQ removes each job's coalescing key as it finishes: a PTTL, GET, DEL and an EXISTS inside the finishing script, and parses the larger options), and spotter-jobs' worker runs them at ${worker} of that (the table above). A plain no-op job costs ${w.plain.nodeUs.median.toFixed(0)} µs of Node CPU and ${w.plain.redisUs.median.toFixed(0)} µs of Redis CPU here; spotter-jobs' ${w.spotter.nodeUs.median.toFixed(0)} µs and ${w.spotter.redisUs.median.toFixed(0)} µs. At concurrency 10 the worker is bound by Node CPU per job, which is why that ratio is the lowest.`,
      `- **Per feature, measured by switching each off** (profiling runs on 2026-12-06, not part of this run: 40,000 jobs in process at concurrency 50, three interleaved rounds, Node CPU per job): the user-history record about 4 µs before this round (pending writes are now found without building a key string per job: 2.3 → 1.9 µs in isolation), the info line per completed job about 2.5 µs, the exclusivity lane about 1.5 µs, the two metric updates about 1 µs, validation and the handler context about 1 µs. Both sides write to the Redis socket once per job (1.01 writes per job, counted); spotter-jobs' writes are 5–10 % longer. With the jobs alone (their coalescing) at ${shape} in this run, the ≥ 0.9× target leaves spotter-jobs' worker next to nothing per job for validation, the log line, metrics, the history record and the exclusivity lane together: out of reach while it does those per job. With handlers of 100 ms and more the gap is noise.`,
    );
  }
  const drain = f?.spotterDrainMs && f.bullmqDrainMs ? ratio(f.spotterDrainMs.median, f.bullmqDrainMs.median) : undefined;
  if (drain)
    out.push(
      `- **A ${n0(f?.users ?? 0)}-user tick drained by one worker process** takes ${drain} plain BullMQ's time (target ≤ 1.1×; 1.98× before this round): the same per-job costs as the worker path above, in a process that also serves its probes and metrics.`,
    );
  return out;
}

export function writeReport(r: BenchResult, root: string): void {
  const base = r.redis[0];
  if (!base) return;
  const lines: string[] = [
    '# Benchmarks',
    '',
    r.mergedFrom
      ? `Generated from runs of \`npm run bench -- --only …\` on ${r.date.slice(0, 10)} (the product code of that day), merged by scenario (${r.mergedFrom.map((f) => `\`${f}\``).join(', ')}; merged figures in \`bench/results/${r.date.slice(0, 10)}.json\`). Redis without persistence only. Do not edit by hand.`
      : `Generated by \`npm run bench\` on ${r.date.slice(0, 16).replace('T', ' ')} UTC; raw figures in \`bench/results/${r.date.slice(0, 10)}.json\`. Do not edit by hand.`,
    '',
    `Machine: ${r.machine.cores} cores (${r.machine.cpu}), ${r.machine.memoryGiB} GiB, Node ${r.machine.node}, Redis ${base.version} started by the benchmark on loopback. ` +
      `Every scenario runs ${r.reps}× per side, alternating sides; cells show the median and (min–max). ` +
      'The baseline is plain BullMQ written in the benchmark: the same payload, the same concurrency, a no-op processor, ' +
      'plain `addBulk` without job ids or deduplication. spotter-jobs runs its real code: fan-out with per-tick ids and coalescing, ' +
      'the handler adapter with validation, info-level logging (serialized, then discarded) and metrics.',
    '',
  ];
  for (const red of r.redis) {
    lines.push(
      `## Redis persistence: ${red.persistence}`,
      '',
      '### Worker throughput (jobs/s, one process, pre-added jobs, no-op handler)',
      '',
    );
    lines.push('| concurrency | jobs | spotter-jobs | plain BullMQ | ratio |', '|---|---|---|---|---|');
    for (const t of red.throughput)
      lines.push(
        `| ${t.concurrency} | ${n0(t.jobs)} | ${range(t.spotter, n0)} | ${range(t.bullmq, n0)} | ${ratio(t.spotter.median, t.bullmq.median)} |`,
      );
    if (red.workerAblation) {
      const w = red.workerAblation;
      const base = w.plain.perSecond;
      const row = (name: string, c: WorkerCost) =>
        `| ${name} | ${n0(c.perSecond.median)} | ${paired(c.perSecond, base)} | ${c.nodeUs.median.toFixed(1)} | ${c.redisUs.median.toFixed(1)} |`;
      lines.push(
        '',
        `Where the worker's time goes (concurrency ${w.concurrency}, ${n0(w.jobs)} no-op jobs; CPU per job measured during the drain, medians of ${r.reps} rounds, each round running the three one after the other):`,
        '',
        '| worker, jobs | jobs/s | against plain (median of per-round ratios) | Node CPU µs/job | Redis CPU µs/job |',
        '|---|---|---|---|---|',
        row('plain BullMQ worker, plain jobs', w.plain),
        row("plain BullMQ worker, spotter-jobs' fan-out jobs (per-tick ids, coalescing)", w.plainWorkerSpotterJobs),
        row('spotter-jobs worker, its own jobs (validation, log line, metrics, history, exclusivity lane)', w.spotter),
        '',
        'The second row is what the jobs themselves cost: BullMQ removes the coalescing key as each job finishes and parses its larger options. The step from the second row to the third is what the worker does per job.',
      );
    }
    lines.push('', '### Fan-out of one tick', '');
    lines.push(
      '| users | enqueue spotter-jobs (s) | enqueue plain (s) | jobs/s spotter / plain | ratio | Redis bytes per waiting job spotter / plain | all done, 1 worker process (s) spotter / plain |',
      '|---|---|---|---|---|---|---|',
    );
    for (const f of red.fanout) {
      lines.push(
        `| ${n0(f.users)} | ${range(f.spotterMs, s1)} | ${range(f.bullmqMs, s1)} | ${n0(f.users / (f.spotterMs.median / 1000))} / ${n0(f.users / (f.bullmqMs.median / 1000))} | ${ratio(f.bullmqMs.median, f.spotterMs.median)} | ${n0(f.spotterBytesPerJob.median)} / ${n0(f.bullmqBytesPerJob.median)} | ${f.spotterDrainMs && f.bullmqDrainMs ? `${s1(f.spotterDrainMs.median)} / ${s1(f.bullmqDrainMs.median)}` : '–'} |`,
      );
    }
    lines.push('', '(ratio = spotter-jobs rate / plain rate.)', '');
    if (red.ablation.length) {
      lines.push(
        '### Where fan-out time goes',
        '',
        'The same plain `addBulk` of 1,000-job pages, adding one spotter-jobs feature at a time (ms, and Redis bytes per waiting job, median):',
        '',
        '| users | plain addBulk | + per-tick job ids | + coalescing (deduplication) | spotter-jobs fan-out |',
        '|---|---|---|---|---|',
      );
      for (const a of red.ablation) {
        const f = red.fanout.find((x) => x.users === a.users);
        const b = a.bytesPerJob;
        const cell = (ms: number, bytes: number | undefined) => `${n0(ms)}${bytes === undefined ? '' : ` ms, ${n0(bytes)} B`}`;
        lines.push(
          `| ${n0(a.users)} | ${cell(a.plain.median, b?.plain)} | ${cell(a.ids.median, b?.ids)} | ${cell(a.idsAndCoalescing.median, b?.idsAndCoalescing)} | ${f ? cell(f.spotterMs.median, b ? f.spotterBytesPerJob.median : undefined) : '–'} |`,
        );
      }
      lines.push(
        '',
        'Per-tick job ids make a fan-out redone after a crash add nothing twice; coalescing keeps a user from piling up jobs. ' +
          'Both are checked inside the same Lua call as the add (an EXISTS and a SET NX per job), so they cost Redis time, not round trips. ' +
          "spotter-jobs' fan-out also validates every user id and records its cursor after each page, yet adds faster and smaller jobs than the " +
          'plain ones with ids and coalescing: its job ids are short, its coalescing id is the user id, and its data does not repeat the tick.',
        '',
      );
    }
    if (red.scale.length) {
      lines.push(`### Worker scale-out (jobs/s, ${n0(red.scale[0]?.jobs ?? 0)} jobs, concurrency 50 per process)`, '');
      lines.push('| processes | spotter-jobs | plain BullMQ | ratio |', '|---|---|---|---|');
      for (const s of red.scale)
        lines.push(`| ${s.processes} | ${range(s.spotter, n0)} | ${range(s.bullmq, n0)} | ${ratio(s.spotter.median, s.bullmq.median)} |`);
      lines.push(
        '',
        `This machine has ${r.machine.cores} cores shared by Redis, the benchmark and every worker process, so the curve bends as soon as the processes outnumber the cores: more processes then only add context switches. On more cores, or with workers on other machines, it keeps rising until Redis (single-threaded) saturates.`,
        '',
      );
    }
    if (red.memory) {
      lines.push(
        '### Memory',
        '',
        `Per retained completed job: spotter-jobs ${n0(red.memory.completedBytesPerJob.spotter)} B, plain BullMQ ${n0(red.memory.completedBytesPerJob.bullmq)} B (${ratio(red.memory.completedBytesPerJob.spotter, red.memory.completedBytesPerJob.bullmq)}).`,
        '',
      );
      const lr = red.longRun;
      if (lr.length) {
        const mib = (b: number) => (b / 2 ** 20).toFixed(1);
        lines.push(
          `Long run with the default retention (10,000 completed jobs per queue): ${lr.length} ticks of ${n0((lr[0]?.jobs ?? 0) / (lr[0]?.tick ?? 1))} users, used memory after each tick (MiB): ${lr.map((x) => mib(x.usedMemory)).join(', ')}. It levels off once the retention limit is reached.`,
          '',
        );
      }
    }
    if (red.tickLag) {
      lines.push(
        '### Tick lag',
        '',
        `Scheduled time → first per-user job started (spotter-jobs: scheduler, producer fan-out, worker; 100 users, \`all\` process): median ${n0(red.tickLag.spotter.median)} ms (${n0(red.tickLag.spotter.min)}–${n0(red.tickLag.spotter.max)}). Plain BullMQ job scheduler → its job started: median ${n0(red.tickLag.bullmq.median)} ms (${n0(red.tickLag.bullmq.min)}–${n0(red.tickLag.bullmq.max)}).`,
        '',
      );
    }
    if (red.policies) {
      const p = red.policies;
      lines.push(
        '### The cost of the policies',
        '',
        `Sync jobs at concurrency ${p.concurrency} (${n0(p.jobs)} no-op jobs, jobs/s, median of ${r.reps}):`,
        '',
        '| variant | jobs/s | against the bare job (median of the per-round ratios) |',
        '|---|---|---|',
        ...(p.bare
          ? [`| bare: no exclusivity group, no history record (the work per job before the policies) | ${n0(p.bare.median)} | 1.00× |`]
          : []),
        `| as shipped, sync alone in its group (its lane: no per-user keys) | ${n0(p.exclusive.median)} | ${paired(p.exclusive, p.bare)} |`,
        ...(p.shared
          ? [
              `| as shipped while write-back is active in the group (per-user keys) | ${n0(p.shared.median)} | ${paired(p.shared, p.bare)} |`,
            ]
          : []),
        `| no exclusivity group, history on | ${n0(p.none.median)} | ${paired(p.none, p.bare)} |`,
        `| plain BullMQ | ${n0(p.bullmq.median)} | ${paired(p.bullmq, p.bare)} |`,
        '',
        `A kind alone in its exclusivity group runs in the group's lane and asks Redis nothing per job; while another kind of the group has work, each job takes its user's key first, one batched script call it waits for. The history record is one pipeline per 50 ms for all users who finished a job (a field per user in one of 16 shared hashes per kind), and takes ${n0(p.historyBytesPerUser)} B of Redis per user who ran a job within the retention.`,
        '',
      );
    }
    if (red.window?.length) {
      const w = red.window[red.window.length - 1] as NonNullable<typeof red.window>[number];
      lines.push(
        '### Windowed fan-out: Redis memory during one tick',
        '',
        w.spotterNextPeak !== undefined && w.bullmqNextPeak !== undefined
          ? `At ${n0(w.users)} users a tick of a running service raises Redis' peak by ${(w.spotterNextPeak / 2 ** 20).toFixed(1)} MiB for spotter-jobs against ${(w.bullmqNextPeak / 2 ** 20).toFixed(1)} MiB for plain BullMQ (the first tick after an empty Redis, which also creates each user's history record: ${(w.spotterPeak / 2 ** 20).toFixed(1)} against ${(w.bullmqPeak / 2 ** 20).toFixed(1)} MiB); every size, and the chart, in [bench-window.md](bench-window.md).`
          : `At ${n0(w.users)} users the peak above idle is ${(w.spotterPeak / 2 ** 20).toFixed(1)} MiB for spotter-jobs against ${(w.bullmqPeak / 2 ** 20).toFixed(1)} MiB for plain BullMQ; every size, and the chart, in [bench-window.md](bench-window.md).`,
        '',
        '![Redis peak memory during a tick, against users](bench-window.svg)',
        '',
      );
    }
    if (red.inProcess) {
      lines.push(
        '### The lower bound: an in-process ticker',
        '',
        `Spotter's former design (a loop and a semaphore of 50, no Redis) runs ${n0(red.inProcess.perSecond.median)} no-op jobs/s: the price of durability, retries and scale-out is the gap between this and the throughput above. With real handlers taking 100 ms to seconds, that gap is not what limits a deployment.`,
        '',
      );
    }
  }
  lines.push(...findings(r), '');
  lines.push(
    '## What the profiles showed before',
    '',
    'Earlier rounds of profiling (`node --cpu-prof` on the worker and fan-out paths), what they fixed and found:',
    '',
    "- **Fixed: one extra Redis round trip per job.** Coalescing first released its deduplication key when a job started (`job.removeDeduplicationKey()`), one more Lua call per job. It now uses BullMQ's own `keepLastIfActive` deduplication, decided inside the add: no per-job call at all. This was the largest cost (about 25 % of worker throughput).",
    '- **Fixed: a child logger per job.** `log.child()` on every job cost more than a no-op job; the per-job context is now built only if a handler reads `ctx.log`.',
    '- **Fixed: wildcard redaction paths** (`*.password` and the like) made pino walk every log object; secrets are scrubbed from whole lines by value anyway, so only explicit paths remain.',
    '- **Fixed: synchronous log writes** (one `write(2)` per job line). Writes are now asynchronous and batched under load.',
    '- **Fixed: metric labels looked up per observation**; the labelled children are cached.',
    '- **Fixed: an AbortController per job.** BullMQ creates one for every job when the processor takes a signal; the adapter now takes none and makes `ctx.signal` only when a handler reads it.',
    "- **Remaining, by design:** per job, validating the payload (zod), one JSON log line and two metric updates. With a no-op handler that is measurable; with real handlers (tens of milliseconds and more) it is noise. Per fan-out, the per-tick job ids and the coalescing key each cost an EXISTS or SET NX inside the add's Lua script (see the ablation table); they are what makes a redone fan-out add nothing twice and a slow user not pile up jobs.",
    '- **On this 2-core machine** Redis, the benchmark and every worker process share two cores, so worker processes beyond one mostly compete for CPU; the scale-out table bends at once for both sides.',
    "- **Fixed: the exclusivity group's awaited call before every job.** A kind alone in its group now runs in the group's lane (a lease renewed every 100 ms) and asks Redis nothing per job; per-user keys are taken only while another kind of the group has work (see the policies table).",
    '- **Fixed: the history record cost more than the job.** A command pair per user (HSET and PEXPIRE through the client) was about 20 µs of worker CPU per job; it became one short field per kind in a hash per user, written by one script call per 50 ms for all users (about 145 B per user instead of 330 B). Creating, writing and expiring a key per user still cost Redis 4–6 µs per job; the record is now a field in one of 16 shared hashes per kind and retention period (one pipeline per 50 ms: HSET, PEXPIREAT, and an HDEL from the period before, so each user keeps one record), 0.5–1.4 µs per job.',
    "- **Found: a job hash left Redis' compact encoding.** Redis keeps a hash as a listpack only while every value is at most `hash-max-listpack-value` (64 bytes by default). BullMQ stores the job id and the deduplication id in each job's options, and the data holds the user, the scheduled time and the tick, so a spotter-jobs job hash was a full hash table: 924 B against plain BullMQ's 216 B. Retention moved from each job to the kind's worker (835 B), and the shipped Redis (compose, Kubernetes, the private one `npm start` runs, the benchmark's, for both sides) sets `hash-max-listpack-value 256`: 408 B.",
    '',
  );
  writeFileSync(resolve(root, 'docs/benchmarks.md'), `${lines.join('\n')}\n`);
  const fanSeries = (red: BenchResult['redis'][number], side: 'spotter' | 'bullmq', color: string) => ({
    name: `${side === 'spotter' ? 'spotter-jobs' : 'plain BullMQ'} (${red.persistence})`,
    color,
    points: red.fanout.map((f) => [f.users, (side === 'spotter' ? f.spotterMs : f.bullmqMs).median / 1000] as [number, number]),
  });
  const colors = ['#1f6feb', '#8250df', '#2da44e', '#bf8700'];
  writeFileSync(
    resolve(root, 'docs/bench-fanout.svg'),
    lineChart({
      title: 'Fan-out: time to enqueue one tick',
      xLabel: 'users (log scale)',
      yLabel: 'seconds (log scale)',
      logX: true,
      logY: true,
      series: r.redis.flatMap((red, i) => [
        fanSeries(red, 'spotter', colors[i * 2] as string),
        fanSeries(red, 'bullmq', colors[i * 2 + 1] as string),
      ]),
    }),
  );
  writeFileSync(
    resolve(root, 'docs/bench-scale.svg'),
    lineChart({
      title: `Throughput vs worker processes (${r.machine.cores} cores)`,
      xLabel: 'worker processes',
      yLabel: 'jobs/s',
      series: [
        { name: 'spotter-jobs', color: colors[0] as string, points: base.scale.map((s) => [s.processes, s.spotter.median]) },
        { name: 'plain BullMQ', color: colors[1] as string, points: base.scale.map((s) => [s.processes, s.bullmq.median]) },
      ],
    }),
  );
}

/**
 * The windowed fan-out's figures: docs/bench-window.md (a table) and docs/bench-window.svg (Redis
 * peak memory against users, both sides), written by any run that measured them.
 */
export function windowReport(r: BenchResult, root: string, persistence: string): void {
  const red = r.redis.find((x) => x.persistence === persistence);
  if (!red?.window?.length) return;
  const mib = (b: number) => (b / 2 ** 20).toFixed(1);
  const next = red.window.every((w) => w.spotterNextPeak !== undefined && w.bullmqNextPeak !== undefined);
  const lines = [
    '# Windowed fan-out: Redis memory during a tick',
    '',
    `Generated by \`npm run bench\` (scenario \`window\`) on ${r.date.slice(0, 16).replace('T', ' ')} UTC, Redis persistence ${persistence}, ` +
      `${r.machine.cores} cores, Node ${r.machine.node}${r.quick ? ', quick mode' : ''}. Do not edit by hand.`,
    '',
    `${next ? 'Two ticks' : 'One tick'} of N users while one worker (concurrency 50, no-op handler) drains ${next ? 'them' : 'it'}. spotter-jobs pages with its default ` +
      'window (SPOTTER_JOBS_FANOUT_WINDOW=auto: 1,000 jobs for concurrency 50) and tops it up as jobs drain; plain BullMQ adds every job at once ' +
      'with addBulk. Both keep 10,000 completed jobs, as the service does. Peak = the highest Redis used_memory above the idle level just before the tick, sampled every 20 ms.' +
      (next
        ? " The first tick starts from an empty Redis, so for spotter-jobs it also creates every user's history record; the next tick is the steady state of a running service, with the records and the retained jobs already there."
        : ''),
    '',
    ...(next
      ? [
          '| users | next tick: spotter-jobs (MiB) | next tick: plain BullMQ (MiB) | first tick: spotter-jobs (MiB) | of which new user history (MiB) | first tick: plain BullMQ (MiB) | all done, next tick, spotter-jobs / plain (s) | time ratio | jobs started per second, next tick, spotter-jobs / plain |',
          '|---|---|---|---|---|---|---|---|---|',
          ...red.window.map(
            (w) =>
              `| ${n0(w.users)} | ${mib(w.spotterNextPeak ?? 0)} | ${mib(w.bullmqNextPeak ?? 0)} | ${mib(w.spotterPeak)} | ${mib(w.historyBytes ?? 0)} | ${mib(w.bullmqPeak)} | ${s1(w.spotterNextMs ?? 0)} / ${s1(w.bullmqNextMs ?? 0)} | ${ratio(w.spotterNextMs ?? 0, w.bullmqNextMs ?? 0)} | ${n0(w.users / ((w.spotterNextMs ?? 0) / 1000))} / ${n0(w.users / ((w.bullmqNextMs ?? 0) / 1000))} (${ratio(w.bullmqNextMs ?? 0, w.spotterNextMs ?? 0)}) |`,
          ),
        ]
      : [
          '| users | Redis peak above idle, spotter-jobs (MiB) | of which user history (MiB) | the tick itself (MiB) | plain BullMQ (MiB) | all done, spotter-jobs (s) | plain BullMQ (s) | time ratio |',
          '|---|---|---|---|---|---|---|---|',
          ...red.window.map(
            (w) =>
              `| ${n0(w.users)} | ${mib(w.spotterPeak)} | ${mib(w.historyBytes ?? 0)} | ${mib(w.spotterPeak - (w.historyBytes ?? 0))} | ${mib(w.bullmqPeak)} | ${s1(w.spotterMs)} | ${s1(w.bullmqMs)} | ${ratio(w.spotterMs, w.bullmqMs)} |`,
          ),
        ]),
    '',
    "User history is the record of each user's last run of each kind (README, one user's history): a field per user in one of 16 shared " +
      'hashes per kind and retention period, kept one to two retentions (24 h by default) past the last job, so it grows with the number of ' +
      'users who ran, not with the window. It is measured exactly, as MEMORY USAGE of every history hash after the ticks. ' +
      'A windowed tick starts a job as one drains, so its jobs started per second are its users over the time until all are done; ' +
      'it takes longer than plain BullMQ here because the fan-out and the worker share one process and both do more per job (validation, ids, coalescing, history).',
    '',
    '![Redis peak memory during a tick, against users](bench-window.svg)',
    '',
  ];
  writeFileSync(resolve(root, 'docs/bench-window.md'), lines.join('\n'));
  const rows = red.window;
  const line = (name: string, color: string, y: (w: (typeof rows)[number]) => number) => ({
    name,
    color,
    points: rows.map((w) => [w.users, Math.max(y(w), 1) / 2 ** 20] as [number, number]),
  });
  writeFileSync(
    resolve(root, 'docs/bench-window.svg'),
    lineChart({
      title: 'Redis peak memory during a tick',
      xLabel: 'users (log scale)',
      yLabel: 'MiB above idle (log scale)',
      logX: true,
      logY: true,
      series: next
        ? [
            line('spotter-jobs (windowed), steady state', '#1f6feb', (w) => w.spotterNextPeak ?? 0),
            line('spotter-jobs, first tick (creates history)', '#2da44e', (w) => w.spotterPeak),
            line('plain BullMQ (all at once)', '#8250df', (w) => w.bullmqNextPeak ?? 0),
          ]
        : [
            line('spotter-jobs (windowed)', '#1f6feb', (w) => w.spotterPeak),
            line('spotter-jobs without user history', '#2da44e', (w) => w.spotterPeak - (w.historyBytes ?? 0)),
            line('plain BullMQ (all at once)', '#8250df', (w) => w.bullmqPeak),
          ],
    }),
  );
}

// `node dist-bench/bench/report.js bench/results/<date>.json` rewrites the docs from saved figures.
// With `--window`, only the windowed fan-out's page (results of `npm run bench -- --only window`).
if (process.argv[1]?.endsWith('report.js') && process.argv[2] === '--merge') {
  // `--merge <out.json> <run.json>…`: each scenario from the last run that measured it.
  const root = resolve(import.meta.dirname, '../..');
  const [out, ...runs] = process.argv.slice(3) as [string, ...string[]];
  const loaded = runs.map((f) => JSON.parse(readFileSync(resolve(f), 'utf8')) as BenchResult);
  const merged = JSON.parse(JSON.stringify(loaded[0])) as BenchResult;
  merged.mergedFrom = runs.map((f) => f.replace(/^.*bench\/results\//, 'bench/results/'));
  const base = merged.redis[0] as BenchResult['redis'][number];
  for (const run of loaded.slice(1)) {
    const red = run.redis.find((x) => x.persistence === base.persistence);
    if (!red) continue;
    for (const [k, v] of Object.entries(red)) {
      if (Array.isArray(v) ? v.length > 0 : v !== undefined && v !== null) (base as Record<string, unknown>)[k] = v;
    }
    merged.sizes = { ...merged.sizes, ...run.sizes };
  }
  writeFileSync(resolve(out), resultsJson(merged));
  writeReport(merged, root);
  windowReport(merged, root, base.persistence);
} else if (process.argv[1]?.endsWith('report.js') && process.argv[2]) {
  const root = resolve(import.meta.dirname, '../..');
  const saved = JSON.parse(readFileSync(resolve(process.argv[2]), 'utf8')) as BenchResult;
  if (process.argv.includes('--window')) windowReport(saved, root, 'none');
  else writeReport(saved, root);
}
