/**
 * `/`: one server-rendered page with what a self-hoster asks first: each schedule's interval, next
 * and last run and result, job counts per queue and state, dead letters with their common reasons.
 * Plain HTML, every value escaped, no script.
 */
import type { Request, Response } from 'express';
import type { Scope } from '../config/catalog.js';
import type { Config } from '../config/config.js';
import { formatDuration } from '../config/duration.js';
import type { Queues } from '../jobs/queues.js';
import { workQueues } from '../jobs/registry.js';
import { JOB_STATES } from '../ops/job-states.js';
import { describeRun, type RunOutcome, runSucceeded } from '../ops/last-run.js';
import type { OrphanQueue } from '../ops/orphans.js';
import { hasBacklog } from '../ops/owners.js';
import { readStatus, type Status } from '../ops/status.js';
import { type UserReport, userReport } from '../ops/user.js';
import type { DeadLetter, DeadLetters } from '../services/dead-letters/index.js';
import { BOARD_PATH } from './board.js';
import { html, raw } from './html.js';

/** Dead letters sampled per page view to find the common reasons; the counts above are exact. */
const REASON_SAMPLE = 500;

const when = (ms: number | null | undefined) => (ms ? new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z') : '–');
const ago = (ms: number) => {
  const d = Date.now() - ms;
  return d >= 0 ? `${formatDuration(Math.round(d / 1000) * 1000)} ago` : `in ${formatDuration(Math.round(-d / 1000) * 1000)}`;
};

/** "What happened to me?": one user's last run, current job, next tick and dead letter per kind. */
function userSection(asked: string, user: UserReport | Error) {
  if (user instanceof Error) return html`<h2>User ${asked}</h2><p class="bad">${user.message}</p>`;
  if (!user.known)
    return html`<h2>User ${user.userId}</h2><p class="muted">No record of this user exists: no job of a user kind ran, waits or was dead-lettered for this id, and no job it owned ran, was dead-lettered or waits for fair admission.</p>`;
  const rows = user.kinds.map(
    (k) => html`<tr><td><b>${k.kind}</b></td>
      <td>${k.lastRun ? html`${when(k.lastRun.at)} <span class="${k.lastRun.outcome === 'completed' ? 'ok' : 'bad'}">${k.lastRun.outcome}</span>, ${k.lastRun.attempts} attempt(s), ${formatDuration(k.lastRun.durationMs)}${k.lastRun.reason ? html`<br><code>${k.lastRun.reason}</code>` : ''}` : '–'}</td>
      <td>${k.current ? html`${k.current.state} <code>${k.current.jobId}</code>` : '–'}</td>
      <td>${when(k.nextTick)}</td>
      <td>${k.deadLetter ? html`<code>${k.deadLetter.id}</code> ${k.deadLetter.failedReason.slice(0, 200)}<br><span class="muted">replay: spotter-jobs dlq replay ${k.deadLetter.id}</span>` : '–'}</td></tr>`,
  );
  return html`<h2>User ${user.userId}</h2>
<table><thead><tr><th>kind</th><th>last run</th><th>now</th><th>next tick</th><th>dead letter</th></tr></thead><tbody>${rows}</tbody></table>
${userSchedules(user.schedules)}${userBacklog(user.backlog)}`;
}

/** The user's own subject schedules, as `user <id>` lists them. */
function userSchedules(schedules: UserReport['schedules']) {
  if (schedules.length === 0) return '';
  const rows = schedules.map(
    (v) =>
      html`<tr><td><code>${v.id}</code></td><td>${v.kind}</td><td>${v.name || '–'}</td><td><code>${v.rule}</code></td><td>${v.tz}</td><td>${v.state}</td><td>${v.next ?? '–'}</td></tr>`,
  );
  return html`<h3>Schedules</h3>
<table><thead><tr><th>id</th><th>kind</th><th>name</th><th>trigger</th><th>tz</th><th>state</th><th>next run</th></tr></thead><tbody>${rows}</tbody></table>`;
}

/** Per fair kind, the user's jobs still waiting for admission, now and due later. */
function userBacklog(backlog: UserReport['backlog']) {
  const rows = backlog
    .filter(hasBacklog)
    .map(
      (b) =>
        html`<tr><td>${b.kind}</td><td class="n">${b.waiting}</td><td>${b.oldestMs === null ? '–' : formatDuration(b.oldestMs)}</td><td class="n">${b.laterAtLeast ? 'at least ' : ''}${b.later}</td></tr>`,
    );
  if (rows.length === 0) return '';
  return html`<h3>Waiting for admission (fair kinds)</h3>
<table><thead><tr><th>kind</th><th>jobs</th><th>oldest waited</th><th>due later</th></tr></thead><tbody>${rows}</tbody></table>`;
}

/** A failure's reason with its own user (or item) id taken out, so different users' failures read as one. */
function reasonOf(d: DeadLetter): string {
  const data = (d.data ?? {}) as { userId?: unknown; id?: unknown };
  const [who, label] = typeof data.userId === 'string' ? [data.userId, '<user>'] : typeof data.id === 'string' ? [data.id, '<item>'] : [];
  const text = d.failedReason.replace(/\s+/g, ' ');
  return who ? text.split(who).join(label) : text;
}

/** Groups failure reasons that differ only by ids and numbers. */
function reasonKey(reason: string): string {
  return reason
    .replace(/\b[0-9a-f]{8,}\b/gi, '…')
    .replace(/\d+/g, 'N')
    .slice(0, 160);
}

/** A global kind's run is its job's; a user kind's is its tick's, with how its jobs ended so far. */
function resultCell(scope: Scope, o: RunOutcome) {
  const good = runSucceeded(o.state) === 1 ? 'ok' : o.state === 'running' ? 'muted' : 'bad';
  const [head, ...rest] = describeRun(o, scope).split('; ');
  return html`<span class="${good}">${head}</span>${rest.length ? html`<br><span class="muted">${rest.join('; ')}</span>` : ''}`;
}

/** Fair kinds' jobs waiting for admission: owners with work, jobs waiting, the largest owner. */
function backlogSection(backlog: Status['backlog']) {
  if (backlog.length === 0) return '';
  const rows = backlog.map((b) => {
    const top = b.top[0];
    const largest = top
      ? html`${top.owner}: ${top.waiting}${top.oldestMs !== null ? html` <span class="muted">(oldest ${formatDuration(top.oldestMs)})</span>` : ''}`
      : '–';
    return html`<tr><td>${b.kind}</td><td class="n">${b.owners}</td><td class="n">${b.waiting}</td><td class="n">${b.admitting}</td><td class="n">${b.later}</td><td>${largest}</td></tr>`;
  });
  return html`<h2>Waiting for admission (fair kinds)</h2>
<table><thead><tr><th>kind</th><th>owners</th><th>waiting</th><th>admitting</th><th>later</th><th>largest owner</th></tr></thead><tbody>${rows}</tbody></table>`;
}

/** Queues of kinds gone from the catalog: what is left in them, and that nothing consumes them. */
function orphanSection(orphans: readonly OrphanQueue[]) {
  if (orphans.length === 0) return '';
  const rows = orphans.map(
    (o) =>
      html`<tr><td>${o.queue}</td>${JOB_STATES.map((st) => html`<td class="n">${o.jobs[st]}</td>`)}<td class="n">${o.deadLetters}</td></tr>`,
  );
  return html`<h2>Left behind</h2>
<p class="bad">No kind of the catalog consumes these queues: their jobs never run. <code>spotter-jobs forget &lt;queue&gt; --yes</code> removes one.</p>
<table><thead><tr><th>queue</th>${JOB_STATES.map((st) => html`<th>${st}</th>`)}<th>dead letters</th></tr></thead><tbody>${rows}</tbody></table>`;
}

const CSS = `body{font:14px/1.45 system-ui,sans-serif;margin:2rem;color:#1f2328;max-width:72rem}
h1{font-size:1.4rem}h2{font-size:1.1rem;margin-top:2rem}table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:.35rem .6rem;border-bottom:1px solid #d0d7de;vertical-align:top}
th{background:#f6f8fa}td.n{text-align:right;font-variant-numeric:tabular-nums}.ok{color:#1a7f37}.bad{color:#cf222e}
.muted{color:#656d76}code{font-size:.9em}nav a{margin-right:1rem}`;

/** One row per kind: its schedule, next and last run, the last run's result, and pause or resume. */
function scheduleRows(status: Status) {
  const local = status.catalog === 'local' ? html` <span class="muted">(local, not yet recorded)</span>` : '';
  return status.schedules.map((s) => {
    const r = s.lastRun;
    const o = s.outcome;
    return html`<tr>
        <td><b>${s.name}</b>${s.title ? html`<br><span class="muted">${s.title}</span>` : ''}</td><td>${s.scope}</td><td>${s.queue}</td><td>${s.interval === '-' ? '–' : s.paused ? html`<b class="bad">paused</b>` : s.enabled ? 'yes' : 'no'}${local}</td><td><code>${s.interval}</code></td>
        <td>${when(s.nextRun)}${s.nextRun ? html` <span class="muted">(${ago(s.nextRun)})</span>` : ''}</td>
        <td>${r ? html`${when(r.startedAt)} <span class="muted">(${ago(r.startedAt)})</span>` : '–'}</td>
        <td>${r && o ? resultCell(s.scope, o) : '–'}</td>
        <td class="n">${r?.users ?? '–'}</td><td class="n">${r?.added ?? '–'}</td><td class="n">${r?.coalesced ?? '–'}</td>
        <td class="n">${r?.errors ?? '–'}</td><td class="n">${r ? formatDuration(r.durationMs) : '–'}</td>
        <td>${
          s.interval === '-'
            ? '–'
            : html`<form method="post" action="${`/api/schedules/${encodeURIComponent(s.name)}/${s.paused ? 'resume' : 'pause'}`}"><button type="submit">${s.paused ? 'Resume' : 'Pause'}</button></form>`
        }</td>
      </tr>`;
  });
}

/** One row per queue: its jobs by state, linked to the queue on the board. */
function countRows(status: Status) {
  return Object.entries(status.queues).map(
    ([queue, c]) =>
      html`<tr><td><a href="${`${BOARD_PATH}/queue/${encodeURIComponent(queue)}`}">${queue}</a></td>${JOB_STATES.map(
        (st) => html`<td class="n">${c[st]}</td>`,
      )}</tr>`,
  );
}

/** One row per work queue: its sampled dead letters and their three most common reasons. */
function deadLetterRows(config: Config, sample: readonly DeadLetter[]) {
  return workQueues(config).map((q) => {
    const mine = sample.filter((d) => d.sourceQueue === q);
    const tally = new Map<string, { n: number; example: string }>();
    for (const d of mine) {
      const reason = reasonOf(d);
      const k = reasonKey(reason);
      const t = tally.get(k) ?? { n: 0, example: reason };
      t.n++;
      tally.set(k, t);
    }
    const top = [...tally.values()].sort((a, b) => b.n - a.n).slice(0, 3);
    return html`<tr><td>${q}</td><td class="n">${mine.length}</td><td>${
      top.length ? html`<ul>${top.map((t) => html`<li>${t.n}× <code>${t.example.slice(0, 300)}</code></li>`)}</ul>` : '–'
    }</td></tr>`;
  });
}

export function statusPage(deps: { config: Config; queues: Queues; deadLetters: DeadLetters }) {
  return async (req: Request, res: Response) => {
    const { config, queues, deadLetters } = deps;
    const asked = typeof req.query.user === 'string' ? req.query.user.trim().slice(0, 200) : '';
    const user = asked ? await userReport(queues, config, asked).catch((err: Error) => err) : undefined;
    const [status, sample] = await Promise.all([readStatus(queues, config), deadLetters.list({ limit: REASON_SAMPLE })]);
    const dlqTotal = await deadLetters.count();
    const page = html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta http-equiv="refresh" content="15"><title>spotter-jobs status</title><style>${raw(CSS)}</style></head>
<body>
<h1>spotter-jobs</h1>
<nav><a href="${BOARD_PATH}">Bull Board</a><a href="${`${BOARD_PATH}/queue/dead-letter`}">Dead letters</a><a href="/metrics">Metrics</a></nav>
<form method="get" action="/"><label>User <input name="user" value="${asked}" placeholder="user id" maxlength="200"></label> <button type="submit">Look up</button></form>
${user === undefined ? '' : userSection(asked, user)}
<h2>Kinds and schedules</h2>
<table><thead><tr><th>kind</th><th>scope</th><th>queue</th><th>enabled</th><th>every</th><th>next run</th><th>last run</th><th>result</th>
<th>users</th><th>added</th><th>coalesced</th><th>errors</th><th>took</th><th></th></tr></thead><tbody>${scheduleRows(status)}</tbody></table>
<h2>Jobs per queue and state</h2>
<table><thead><tr><th>queue</th>${JOB_STATES.map((s) => html`<th>${s}</th>`)}</tr></thead><tbody>${countRows(status)}</tbody></table>
${backlogSection(status.backlog)}
${orphanSection(status.orphans)}
<h2>Dead letters: ${dlqTotal}</h2>
<table><thead><tr><th>source queue</th><th>entries${dlqTotal > REASON_SAMPLE ? ` (newest ${REASON_SAMPLE})` : ''}</th><th>most common reasons</th></tr></thead>
<tbody>${deadLetterRows(config, sample)}</tbody></table>
<p class="muted">Generated ${new Date().toISOString()} · refreshes every 15 s</p>
</body></html>`;
    res.setHeader(
      'Content-Security-Policy',
      "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; base-uri 'none'; form-action 'self'",
    );
    res.type('html').send(page.value);
  };
}
