import { n0, range, s1 } from '../format.js';
import type { BenchResult, MakespanSide, RedisResult } from '../types.js';

/** Due time → last job finished, against the ideal and plain BullMQ, with where the time went. */
export function makespanSection(red: RedisResult, r: BenchResult): string[] {
  const m = red.makespan;
  if (!m) return [];
  const us = (x: number) => n0(x);
  const share = (s: MakespanSide) => {
    const cpuUs = s.workersCpuUs.median + s.addingCpuUs.median + s.redisCpuUs.median;
    return `${Math.round((100 * cpuUs * m.users) / 1000 / m.idealMs / r.machine.cores)} %`;
  };
  const row = (name: string, s: MakespanSide) =>
    `| ${name} | ${range(s.ms, s1)} | ${(s.ms.median / m.idealMs).toFixed(2)}× | ${n0(s.firstMs.median)} | ${s1(s.addedMs.median)} | ${s.slotMs.median.toFixed(1)} | ${us(s.workersCpuUs.median)} / ${us(s.addingCpuUs.median)} / ${us(s.redisCpuUs.median)} |`;
  return [
    `### Tick makespan (${n0(m.users)} users, ${m.handlerMs} ms handler, ${m.processes} worker processes × concurrency ${m.concurrency})`,
    '',
    `From the tick's due time to its last job finished: how long until every user is synced. The ideal is users × handler time / slots = ${s1(m.idealMs)} s. A job's time in its slot runs from its worker fetching it to its result stored; above ${m.handlerMs} ms it is the worker's and Redis' latency around the handler, and for spotter-jobs also the wait of a job its worker fetched ahead of a free slot (see [behaviour.md](behaviour.md): a worker holds up to a fifth of its concurrency more, so a slot that frees starts its next job without waiting for a Redis round trip; what runs stays within the concurrency).`,
    '',
    '| | makespan (s) | against the ideal | first job started (ms) | every job added (s) | ms per job in its slot | CPU per job, µs: workers / adding / Redis |',
    '|---|---|---|---|---|---|---|',
    row('spotter-jobs, window on (default)', m.window),
    row('spotter-jobs, window off', m.noWindow),
    ...(m.noFetchAhead ? [row('spotter-jobs, window on, not fetching ahead (SPOTTER_JOBS_FETCH_AHEAD=false)', m.noFetchAhead)] : []),
    row('plain BullMQ, addBulk at the due time', m.bullmq),
    '',
    `The ideal counts the handler only. Here Redis, the adding side and the ${m.processes} worker processes share ${r.machine.cores} cores: at the ideal pace, plain BullMQ's jobs would keep ${share(m.bullmq)} of them busy and spotter-jobs' ${share(m.window)} (CPU per job above × users ÷ the ideal time). The queueing that load brings is each job's time in its slot above ${m.handlerMs} ms, so neither side comes near 1.1× the ideal on this machine; spotter-jobs' tick takes ${(m.window.ms.median / m.bullmq.ms.median).toFixed(2)}× plain BullMQ's${m.noFetchAhead ? `, and ${(m.noFetchAhead.ms.median / m.bullmq.ms.median).toFixed(2)}× with its workers not fetching ahead` : ''}.`,
    '',
  ];
}
