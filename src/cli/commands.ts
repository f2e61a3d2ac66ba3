/** `status`, `trigger` and `dlq`: short commands that read or act on Redis and exit. */
import type { Config } from '../config.js';
import { DURATION_FORM, formatDuration, parseDuration } from '../duration.js';
import { InvalidJobError } from '../jobs/errors.js';
import { Queues } from '../jobs/queues.js';
import { kindByNameOrQueue, kindsOf } from '../jobs/registry.js';
import { createLogger } from '../logger.js';
import { setPaused } from '../ops/pause.js';
import { readStatus } from '../ops/status.js';
import { trigger } from '../ops/trigger.js';
import { userReport } from '../ops/user.js';
import { closeConnection, failFastConnection, probe, targetOf } from '../redis.js';
import { describeListing } from '../schedules/tick-record.js';
import { DeadLetters } from '../services/dead-letters.js';
import { table, when } from './print.js';

/** A bad command line: exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

type Out = (s: string) => void;

async function withQueues<T>(config: Config, fn: (q: Queues) => Promise<T>): Promise<T> {
  const { cluster } = await probe(targetOf(config));
  const conn = failFastConnection(targetOf(config, cluster), 'spotter-jobs:cli');
  conn.on('error', () => {});
  const queues = new Queues(conn, config, createLogger({ level: 'silent' }));
  try {
    return await fn(queues);
  } finally {
    await queues.close();
    await closeConnection(conn);
  }
}

/** `--queue`: a kind's queue, named by the queue or the kind. */
function workQueueOpt(config: Config, q: string | undefined): string | undefined {
  if (q === undefined) return undefined;
  const kind = kindByNameOrQueue(config, q);
  if (!kind)
    throw new UsageError(
      `unknown queue "${q}"; expected one of ${kindsOf(config)
        .map((k) => k.queue)
        .join(', ')}`,
    );
  return kind.queue;
}

export async function statusCommand(config: Config, opts: { json?: boolean }, out: Out): Promise<void> {
  const s = await withQueues(config, async (q) => ({
    ...(await readStatus(q, config)),
    deadLetters: await new DeadLetters(q, config).count(),
  }));
  if (opts.json) return out(JSON.stringify(s, null, 2));
  out('Kinds');
  out(
    table(
      s.schedules.map((x) => ({
        kind: x.name,
        queue: x.queue,
        enabled: x.interval === '-' ? '-' : x.paused ? 'paused' : x.enabled ? 'yes' : 'no',
        every: x.interval,
        scope: x.scope,
        'next run': when(x.nextRun),
        'last run': when(x.lastRun?.startedAt),
        result: x.lastRun
          ? `${x.lastRun.result} users=${x.lastRun.users} added=${x.lastRun.added} coalesced=${x.lastRun.coalesced} errors=${x.lastRun.errors}${x.lastRun.duplicates ? ` duplicates=${x.lastRun.duplicates}` : ''} in ${formatDuration(x.lastRun.durationMs)}${x.lastRun.listing ? `; ${describeListing(x.lastRun)}` : ''}`
          : '-',
      })),
    ),
  );
  out('\nJobs');
  out(table(Object.entries(s.queues).map(([queue, c]) => ({ queue, ...c }))));
  out(`\nDead letters: ${s.deadLetters}`);
}

export async function triggerCommand(
  config: Config,
  name: string,
  opts: { user?: string; item?: string; data?: string; at?: string; json?: boolean },
  out: Out,
): Promise<void> {
  const kind = kindByNameOrQueue(config, name);
  if (!kind)
    throw new UsageError(
      `unknown kind "${name}"; expected one of ${kindsOf(config)
        .map((k) => k.name)
        .join(', ')}`,
    );
  let at: Date | undefined;
  if (opts.at !== undefined) {
    at = new Date(opts.at);
    if (!/^\d{4}-\d{2}-\d{2}T/.test(opts.at) || Number.isNaN(at.getTime()))
      throw new UsageError(`--at "${opts.at}" is not an ISO-8601 time such as 2026-01-31T04:00:00Z`);
  }
  if (opts.user !== undefined && !/^[A-Za-z0-9._@-]{1,200}$/.test(opts.user))
    throw new UsageError(`--user "${opts.user}" is not a valid user id`);
  if (opts.data !== undefined && opts.item === undefined) throw new UsageError('--data goes with --item');
  let data: unknown;
  if (opts.data !== undefined) {
    try {
      data = JSON.parse(opts.data);
    } catch {
      throw new UsageError(`--data is not JSON: ${opts.data.slice(0, 80)}`);
    }
  }
  const item = opts.item !== undefined ? { id: opts.item, data: data ?? {} } : undefined;
  const t = await withQueues(config, (q) => trigger(q, config, kind, { userId: opts.user, item, at })).catch((err: unknown) => {
    // A subject the kind cannot take is the caller's mistake, not a failure of the service.
    if (err instanceof InvalidJobError) throw new UsageError(err.message);
    throw err;
  });
  if (opts.json) return out(JSON.stringify(t));
  const what = {
    tick: `queued a ${kind.name} fan-out (tick ${t.jobId}) for ${t.runAt}; a running producer fans it out`,
    user: t.coalesced
      ? `user ${opts.user} already has a ${t.queue} job that has not started (${t.jobId}): coalesced into it`
      : `queued ${t.queue} job ${t.jobId} for user ${opts.user} at ${t.runAt}`,
    global: `queued ${t.queue} job ${t.jobId} at ${t.runAt}`,
    item: `queued ${t.queue} job ${t.jobId} for item ${opts.item} at ${t.runAt}`,
  };
  out(t.paused ? `${what[t.kind]} (${kind.name} is paused: this manual run goes ahead, its scheduled ticks stay skipped)` : what[t.kind]);
}

/** `user <id>`: the user's last run, current job, next tick and dead letter for each user kind. */
export async function userCommand(config: Config, userId: string, opts: { json?: boolean }, out: Out): Promise<void> {
  const r = await withQueues(config, (q) => userReport(q, config, userId)).catch((err: unknown) => {
    if (err instanceof InvalidJobError) throw new UsageError(err.message);
    throw err;
  });
  if (opts.json) return out(JSON.stringify(r, null, 2));
  out(`User ${r.userId}`);
  out(
    table(
      r.kinds.map((k) => ({
        kind: k.kind,
        'last run': when(k.lastRun?.at),
        outcome: k.lastRun ? `${k.lastRun.outcome} after ${k.lastRun.attempts} attempt(s) in ${formatDuration(k.lastRun.durationMs)}` : '-',
        now: k.current ? `${k.current.state} (${k.current.jobId})` : '-',
        'next tick': when(k.nextTick),
        'dead letter': k.deadLetter ? `${k.deadLetter.id}: ${k.deadLetter.failedReason.replace(/\s+/g, ' ').slice(0, 80)}` : '-',
      })),
    ),
  );
  const dls = r.kinds.filter((k) => k.deadLetter);
  if (dls.length > 0) out(`\nReplay with: spotter-jobs dlq replay ${dls.map((k) => k.deadLetter?.id).join(' ')}`);
}

/** `pause <kind>` / `resume <kind>`: stop and restart a schedule's ticks, keeping its cadence. */
export async function pauseCommand(config: Config, name: string, pause: boolean, opts: { json?: boolean }, out: Out): Promise<void> {
  const kind = kindByNameOrQueue(config, name);
  if (!kind?.schedule) {
    throw new UsageError(
      `"${name}" is no scheduled kind; expected one of ${kindsOf(config)
        .filter((k) => k.schedule)
        .map((k) => k.name)
        .join(', ')}`,
    );
  }
  const changed = await withQueues(config, (q) => setPaused(q, kind.name, pause));
  if (opts.json) return out(JSON.stringify({ schedule: kind.name, paused: pause, changed }));
  const verb = pause ? 'paused' : 'resumed';
  out(changed ? `${kind.name} ${verb}` : `${kind.name} was ${pause ? 'paused' : 'not paused'} already`);
}

export async function dlqList(config: Config, opts: { queue?: string; limit?: string; json?: boolean }, out: Out): Promise<void> {
  const queue = workQueueOpt(config, opts.queue);
  const limit = opts.limit === undefined ? 50 : Number(opts.limit);
  if (!Number.isInteger(limit) || limit < 1) throw new UsageError(`--limit "${opts.limit}" is not a whole number ≥ 1`);
  const items = await withQueues(config, (q) => new DeadLetters(q, config).list({ queue, limit }));
  if (opts.json) return out(JSON.stringify(items, null, 2));
  out(
    table(
      items.map((d) => ({
        id: d.id,
        queue: d.sourceQueue,
        user: String((d.data as { userId?: unknown; id?: unknown })?.userId ?? (d.data as { id?: unknown })?.id ?? '-'),
        attempts: d.attemptsMade,
        failed: when(d.failedAt),
        reason: d.failedReason.replace(/\s+/g, ' ').slice(0, 100),
      })),
    ),
  );
}

export async function dlqReplay(
  config: Config,
  ids: string[],
  opts: { all?: boolean; queue?: string; json?: boolean },
  out: Out,
): Promise<void> {
  const queue = workQueueOpt(config, opts.queue);
  const chosen = [ids.length > 0, Boolean(opts.all), queue !== undefined].filter(Boolean).length;
  if (chosen !== 1) throw new UsageError('say which dead letters to replay: --all, --queue Q, or one or more ids');
  const r = await withQueues(config, (q) => new DeadLetters(q, config).replay(ids.length > 0 ? { ids } : { all: opts.all, queue }));
  if (opts.json) return out(JSON.stringify(r));
  out(
    `replayed ${r.replayed.length} dead letter(s)` +
      (r.settled.length ? `; ${r.settled.length} retired without a replay (their jobs were retried since)` : '') +
      (r.missing.length ? `; not found: ${r.missing.join(', ')}` : ''),
  );
  if (r.missing.length > 0 && r.replayed.length === 0 && r.settled.length === 0) throw new UsageError('no such dead letter');
}

export async function dlqPurge(config: Config, opts: { queue?: string; olderThan?: string; json?: boolean }, out: Out): Promise<void> {
  const queue = workQueueOpt(config, opts.queue);
  let olderThanMs: number | undefined;
  if (opts.olderThan !== undefined) {
    olderThanMs = parseDuration(opts.olderThan);
    if (olderThanMs === undefined) throw new UsageError(`--older-than "${opts.olderThan}" is not ${DURATION_FORM}`);
  }
  const n = await withQueues(config, (q) => new DeadLetters(q, config).purge({ queue, olderThanMs }));
  if (opts.json) return out(JSON.stringify({ purged: n }));
  out(`purged ${n} dead letter(s)`);
}
