/** `status`, `trigger`, `user`, `pause` and `resume`: short commands that read or act on Redis and exit. */

import { HANDLERS_VAR } from '../config/catalog-source.js';
import type { Config } from '../config/config.js';
import { formatDuration } from '../config/duration.js';
import type { KindConfig } from '../config/kind-config.js';
import { InvalidJobError } from '../jobs/errors.js';
import type { KindBacklog } from '../jobs/fair-backlog.js';
import { badSubjectId, kindByNameOrQueue, kindsOf } from '../jobs/registry.js';
import { describeRun, jobsText } from '../ops/last-run.js';
import { setPaused } from '../ops/pause.js';
import { readStatus } from '../ops/status.js';
import { trigger } from '../ops/trigger.js';
import { userReport } from '../ops/user.js';
import { describeListing } from '../schedules/tick-record.js';
import { DeadLetters } from '../services/dead-letters/index.js';
import { backlogTable } from './owner.js';
import { table, when } from './print.js';
import { type Out, UsageError, withCatalog, withQueues } from './session.js';

export { UsageError } from './session.js';

export async function statusCommand(config: Config, opts: { json?: boolean }, out: Out): Promise<void> {
  const s = await withQueues(config, async (q) => ({
    ...(await readStatus(q, config)),
    deadLetters: await new DeadLetters(q, config).count(),
  }));
  if (opts.json) return out(JSON.stringify(s, null, 2));
  out('Kinds');
  const titled = s.schedules.some((x) => x.title);
  out(
    table(
      s.schedules.map((x) => ({
        kind: x.name,
        ...(titled ? { title: x.title ?? '-' } : {}),
        queue: x.queue,
        enabled: x.interval === '-' ? '-' : x.paused ? 'paused' : `${x.enabled ? 'yes' : 'no'}${s.catalog === 'local' ? ' (local)' : ''}`,
        every: x.interval,
        scope: x.scope,
        'next run': when(x.nextRun),
        'last run': when(x.lastRun?.startedAt),
        result: x.lastRun
          ? x.scope === 'global' && x.outcome
            ? describeRun(x.outcome, x.scope)
            : `${x.lastRun.result} users=${x.lastRun.users} added=${x.lastRun.added} coalesced=${x.lastRun.coalesced} errors=${x.lastRun.errors}${x.lastRun.duplicates ? ` duplicates=${x.lastRun.duplicates}` : ''} in ${formatDuration(x.lastRun.durationMs)}${x.lastRun.listing ? `; ${describeListing(x.lastRun)}` : ''}${x.outcome ? `; ${jobsText(x.outcome)}` : ''}`
          : '-',
      })),
    ),
  );
  if (s.catalog === 'local')
    out("(local): no producer has recorded its catalog in Redis yet, so this is this environment's configuration, not yet recorded");
  out('\nJobs');
  out(table(Object.entries(s.queues).map(([queue, c]) => ({ queue, ...c }))));
  if (s.backlog.length > 0) {
    out('\nBacklog: jobs of fair kinds waiting for admission');
    out(table(s.backlog.map(backlogRow)));
  }
  out(`\nDead letters: ${s.deadLetters}`);
  if (s.orphans.length === 0) return;
  out('\nLeft behind: queues of kinds no longer in the catalog; no kind consumes them (spotter-jobs forget <queue> --yes removes one)');
  out(table(s.orphans.map((o) => ({ queue: o.queue, ...o.jobs, 'dead letters': o.deadLetters }))));
}

export async function triggerCommand(
  config: Config,
  name: string,
  opts: { user?: string; item?: string; data?: string; at?: string; owner?: string; json?: boolean },
  out: Out,
): Promise<void> {
  let at: Date | undefined;
  if (opts.at !== undefined) {
    at = new Date(opts.at);
    if (!/^\d{4}-\d{2}-\d{2}T/.test(opts.at) || Number.isNaN(at.getTime()))
      throw new UsageError(`--at "${opts.at}" is not an ISO-8601 time such as 2026-01-31T04:00:00Z`);
  }
  const badUser = opts.user !== undefined ? badSubjectId('a user id', opts.user) : undefined;
  if (badUser) throw new UsageError(`--user ${badUser}`);
  if (opts.data !== undefined && opts.item === undefined) throw new UsageError('--data goes with --item');
  const badOwner = opts.owner !== undefined ? badSubjectId('an owner id', opts.owner) : undefined;
  if (badOwner) throw new UsageError(`--owner ${badOwner}`);
  let data: unknown;
  if (opts.data !== undefined) {
    try {
      data = JSON.parse(opts.data);
    } catch {
      throw new UsageError(`--data is not JSON: ${opts.data.slice(0, 80)}`);
    }
  }
  const item = opts.item !== undefined ? { id: opts.item, data: data ?? {} } : undefined;
  const { kind, t } = await withCatalog(config, async (q, c) => {
    const k = kindOf(c, name);
    const done = await trigger(q, c, k, { userId: opts.user, item, at, owner: opts.owner });
    return { kind: k, t: done };
  }).catch((err: unknown) => {
    // A subject the kind cannot take is the caller's mistake, not a failure of the service.
    if (err instanceof InvalidJobError) throw new UsageError(err.message);
    throw err;
  });
  if (opts.json) return out(JSON.stringify(t));
  // A fair kind's job is not in the queue yet: it waits in its owner's backlog for admission.
  const queued = t.fair ? 'filed for fair admission:' : 'queued';
  const what = {
    tick: `queued a ${kind.name} fan-out (tick ${t.jobId}) for ${t.runAt}; a running producer fans it out`,
    user: t.coalesced
      ? `user ${opts.user} already has a ${t.queue} job that has not started (${t.jobId}): coalesced into it`
      : `${queued} ${t.queue} job ${t.jobId} for user ${opts.user} at ${t.runAt}`,
    global: `${queued} ${t.queue} job ${t.jobId} at ${t.runAt}`,
    item: `${queued} ${t.queue} job ${t.jobId} for item ${opts.item} at ${t.runAt}`,
  };
  const whose = opts.owner !== undefined ? ` (owner ${opts.owner})` : '';
  out(
    t.paused
      ? `${what[t.kind]}${whose} (${kind.name} is paused: this manual run goes ahead, its scheduled ticks stay skipped)`
      : `${what[t.kind]}${whose}`,
  );
}

/** One fair kind's backlog as a row of `status`. */
function backlogRow(b: KindBacklog): Record<string, string | number> {
  const top = b.top[0];
  return {
    kind: b.kind,
    owners: b.owners,
    waiting: b.waiting,
    admitting: b.admitting,
    later: b.later,
    largest: top ? `${top.owner}: ${top.waiting}${top.oldestMs !== null ? `, oldest ${formatDuration(top.oldestMs)}` : ''}` : '-',
  };
}

/** The kind `trigger` names, from the catalog the command acts on. */
function kindOf(config: Config, name: string): KindConfig {
  const kind = kindByNameOrQueue(config, name);
  if (!kind)
    throw new UsageError(
      `unknown kind "${name}"; expected one of ${kindsOf(config)
        .map((k) => k.name)
        .join(', ')}`,
    );
  // A Standard Schema is code in the handler module: the recorded catalog cannot check data with it.
  if (kind.scope === 'item' && kind.schema === 'standard' && !kind.checkData)
    throw new UsageError(
      `${kind.name} checks its items with a schema in its handler module; set ${HANDLERS_VAR} to that module to add one from here`,
    );
  return kind;
}

/** `user <id>`: the user's last run, current job, next tick and dead letter for each user kind, and for each kind of jobs it owned. */
export async function userCommand(config: Config, userId: string, opts: { json?: boolean }, out: Out): Promise<void> {
  const r = await withCatalog(config, (q, c) => userReport(q, c, userId)).catch((err: unknown) => {
    if (err instanceof InvalidJobError) throw new UsageError(err.message);
    throw err;
  });
  if (opts.json) return out(JSON.stringify(r, null, 2));
  if (!r.known) {
    // Next ticks would read as if the user existed: no job ever ran, waits or failed for this id.
    out(
      `No record of user ${r.userId} exists: no job of a user kind ran, waits or was dead-lettered for this id, and no job it owned ran, was dead-lettered or waits for fair admission`,
    );
    return;
  }
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
  if (r.schedules.length > 0) {
    out('\nSchedules');
    out(
      table(
        r.schedules.map((v) => ({
          id: v.id,
          kind: v.kind,
          name: v.name || '-',
          trigger: v.rule,
          tz: v.tz,
          state: v.state,
          'next run': v.next ?? '-',
        })),
      ),
    );
  }
  const backlog = backlogTable(r.backlog);
  if (backlog) out(`\nWaiting for admission (fair kinds)\n${backlog}`);
  const dls = r.kinds.filter((k) => k.deadLetter);
  if (dls.length > 0) out(`\nReplay with: spotter-jobs dlq replay ${dls.map((k) => k.deadLetter?.id).join(' ')}`);
}

/** `pause <kind>` / `resume <kind>`: stop and restart a schedule's ticks, keeping its cadence. */
export async function pauseCommand(config: Config, name: string, pause: boolean, opts: { json?: boolean }, out: Out): Promise<void> {
  const { kind, changed } = await withCatalog(config, async (q, c) => {
    const k = kindByNameOrQueue(c, name);
    if (!k?.schedule) {
      throw new UsageError(
        `"${name}" is no scheduled kind; expected one of ${kindsOf(c)
          .filter((x) => x.schedule)
          .map((x) => x.name)
          .join(', ')}`,
      );
    }
    return { kind: k, changed: await setPaused(q, k.name, pause) };
  });
  if (opts.json) return out(JSON.stringify({ schedule: kind.name, paused: pause, changed }));
  const verb = pause ? 'paused' : 'resumed';
  out(changed ? `${kind.name} ${verb}` : pause ? `${kind.name} was paused already` : `${kind.name} is not paused`);
}
