/**
 * The schedules' metrics, read from Redis at scrape time: next and last run, interval, pause, the
 * last fan-out, and what the last run came to (last-run.ts: for a global kind its job's state).
 */
import { Gauge, type Registry } from 'prom-client';
import type { Config } from '../config/config.js';
import type { Queues } from '../jobs/queues.js';
import { scheduledKinds } from '../jobs/registry.js';
import { type RunOutcome, runOutcome, runSucceeded } from '../ops/last-run.js';
import { intervalAt } from '../schedules/catch-up.js';
import { pausedSchedules } from '../schedules/pause.js';
import { lastTick, type TickResult } from '../schedules/tick-record.js';
import { shared } from './shared-read.js';
import { tolerant } from './tolerant.js';

type PerSchedule = Record<string, number>;
type Run = { tick: TickResult; outcome: RunOutcome };
type Runs = () => Promise<Map<string, Run>>;

function scheduleGauge(registry: Registry, name: string, help: string, read: () => Promise<PerSchedule>): void {
  new Gauge({
    name,
    help,
    labelNames: ['schedule'],
    registers: [registry],
    collect: tolerant(async function () {
      const values = await read();
      this.reset();
      for (const [schedule, v] of Object.entries(values)) if (v !== undefined) this.set({ schedule }, v);
    }),
  });
}

const fromRuns = (runs: Runs, pick: (r: Run) => number | undefined) => async () => {
  const out: PerSchedule = {};
  for (const [s, r] of await runs()) {
    const v = pick(r);
    if (v !== undefined) out[s] = v;
  }
  return out;
};

export function registerScheduleMetrics(registry: Registry, queues: Queues, config: Config): void {
  // One read of every schedule's last run per scrape, shared by the gauges that need it.
  const runs: Runs = shared(async () => {
    const out = new Map<string, Run>();
    for (const k of scheduledKinds(config)) {
      const tick = await lastTick(queues.conn, config.prefix, k.name);
      if (tick) out.set(k.name, { tick, outcome: await runOutcome(queues, k, tick) });
    }
    return out;
  });
  cadenceGauges(registry, queues, config);
  runGauges(registry, runs);
  const fanOut: Array<[string, string, (t: TickResult) => number]> = [
    [
      'spotter_jobs_schedule_last_run_timestamp_seconds',
      'Start of the last tick of each schedule (unix seconds)',
      (t) => t.startedAt / 1000,
    ],
    ['spotter_jobs_fanout_last_duration_seconds', 'Duration of the last fan-out', (t) => t.durationMs / 1000],
    ['spotter_jobs_fanout_last_users', 'Users seen by the last fan-out', (t) => t.users],
    ['spotter_jobs_fanout_last_jobs_added', 'Jobs added by the last fan-out', (t) => t.added],
    ['spotter_jobs_fanout_last_coalesced', 'Users coalesced by the last fan-out (previous job not started yet)', (t) => t.coalesced],
    ['spotter_jobs_fanout_last_errors', 'Errors in the last fan-out', (t) => t.errors],
  ];
  for (const [name, help, pick] of fanOut)
    scheduleGauge(
      registry,
      name,
      help,
      fromRuns(runs, (r) => pick(r.tick)),
    );
}

/** When each schedule runs next, how often, and whether it is paused. */
function cadenceGauges(registry: Registry, queues: Queues, config: Config): void {
  const scheduleNames = () => scheduledKinds(config).map((k) => k.name);
  scheduleGauge(registry, 'spotter_jobs_schedule_next_run_timestamp_seconds', 'Next run of each schedule (unix seconds)', async () => {
    const out: PerSchedule = {};
    for (const x of await queues.schedules().getJobSchedulers(0, -1)) {
      if (x.next && scheduleNames().includes(x.key)) out[x.key] = x.next / 1000;
    }
    return out;
  });
  scheduleGauge(
    registry,
    'spotter_jobs_schedule_interval_seconds',
    'Interval of each schedule (for a cron, the gap between its next two runs); alerts compare lags with it',
    async () => {
      const now = Date.now();
      return Object.fromEntries(
        scheduledKinds(config).flatMap((k) => {
          if (!k.schedule) return [];
          // From the next slot, so a cron's value is a whole gap (next run to the one after), not a remainder.
          const next = now + intervalAt(k.schedule, config.tz, now);
          return [[k.name, intervalAt(k.schedule, config.tz, next) / 1000]];
        }),
      );
    },
  );
  scheduleGauge(
    registry,
    'spotter_jobs_schedule_paused',
    '1 while an operator has paused the schedule (its ticks are skipped)',
    async () => {
      const paused = await pausedSchedules(queues.conn, config.prefix);
      return Object.fromEntries(scheduleNames().map((s) => [s, paused.has(s) ? 1 : 0]));
    },
  );
}

/** What the last run came to: success, its state (a global kind's: its job's), and its jobs' outcomes. */
function runGauges(registry: Registry, runs: Runs): void {
  scheduleGauge(
    registry,
    'spotter_jobs_schedule_last_run_success',
    "1 when the last run went well (a user kind's tick fanned out; a global kind's job completed), 0 when it failed for good (the tick failed; the job was dead-lettered); absent while a global kind's job runs or retries",
    fromRuns(runs, (r) => runSucceeded(r.outcome.state)),
  );
  new Gauge({
    name: 'spotter_jobs_schedule_last_run_state',
    help: "1 for the state of each schedule's last run: ok, failed, superseded (user kinds: the tick); running, completed, retrying, dead_lettered, failed, unknown (global kinds: the job)",
    labelNames: ['schedule', 'state'],
    registers: [registry],
    collect: tolerant(async function () {
      const all = await runs();
      this.reset();
      for (const [schedule, r] of all) this.set({ schedule, state: r.outcome.state }, 1);
    }),
  });
  new Gauge({
    name: 'spotter_jobs_schedule_last_run_jobs',
    help: "How the last tick's jobs ended so far, by outcome (completed, retrying, dead_lettered)",
    labelNames: ['schedule', 'outcome'],
    registers: [registry],
    collect: tolerant(async function () {
      const all = await runs();
      this.reset();
      for (const [schedule, r] of all) {
        this.set({ schedule, outcome: 'completed' }, r.outcome.jobs.completed);
        this.set({ schedule, outcome: 'retrying' }, r.outcome.jobs.retrying);
        this.set({ schedule, outcome: 'dead_lettered' }, r.outcome.jobs.deadLettered);
      }
    }),
  });
}
