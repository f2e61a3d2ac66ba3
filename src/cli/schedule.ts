/** `schedule add | import | list | show | pause | resume | remove`: subject schedules from the command line. */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { Config } from '../config/config.js';
import { ScheduleInputError } from '../schedules/subject/input.js';
import { MAX_BULK, MAX_PAGE, type ScheduleView, SubjectSchedules } from '../schedules/subject/store.js';
import { variablesHelp } from './help.js';
import { table } from './print.js';
import { type Out, UsageError, withCatalog } from './session.js';

type AddOpts = {
  user?: string;
  item?: string;
  data?: string;
  rule?: string;
  at?: string;
  tz?: string;
  name?: string;
  until?: string;
  count?: string;
  json?: boolean;
};

function withStore<T>(config: Config, fn: (s: SubjectSchedules) => Promise<T>): Promise<T> {
  return withCatalog(config, (q, c) => fn(new SubjectSchedules(q.conn, c))).catch((err: unknown) => {
    if (err instanceof ScheduleInputError) throw new UsageError(err.message);
    throw err;
  });
}

function json(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new UsageError(`${what} is not JSON: ${text.slice(0, 80)}`);
  }
}

/** The schedule a command line asks for, in the shape the API and handlers use. */
export function inputOf(kind: string, o: AddOpts): Record<string, unknown> {
  if ((o.rule === undefined) === (o.at === undefined))
    throw new UsageError('give the trigger as --rule "<trigger>" or --at <ISO time>, one of them');
  if (o.data !== undefined && o.item === undefined) throw new UsageError('--data goes with --item');
  const count = o.count === undefined ? undefined : Number(o.count);
  if (count !== undefined && !Number.isInteger(count)) throw new UsageError(`--count "${o.count}" is not a whole number`);
  return {
    kind,
    ...(o.user !== undefined ? { user: o.user } : {}),
    ...(o.item !== undefined ? { item: o.item } : {}),
    ...(o.data !== undefined ? { data: json(o.data, '--data') } : {}),
    rule: o.rule ?? `at ${o.at}`,
    ...(o.tz !== undefined ? { tz: o.tz } : {}),
    ...(o.name !== undefined ? { name: o.name } : {}),
    ...(o.until !== undefined ? { until: o.until } : {}),
    ...(count !== undefined ? { count } : {}),
  };
}

function subjectText(v: ScheduleView): string {
  return v.user !== undefined ? `user ${v.user}` : `item ${v.item}`;
}

function rows(list: ScheduleView[]): string {
  return table(
    list.map((v) => ({
      id: v.id,
      kind: v.kind,
      subject: subjectText(v),
      name: v.name || '-',
      trigger: v.rule,
      tz: v.tz,
      state: v.state,
      'next run': v.next ?? '-',
    })),
  );
}

async function add(config: Config, kind: string, o: AddOpts, out: Out): Promise<void> {
  const v = await withStore(config, (s) => s.add(inputOf(kind, o)));
  if (o.json) return out(JSON.stringify({ id: v.id, rule: v.rule, next: v.runs }));
  out(`schedule ${v.id}: ${v.kind} for ${subjectText(v)}${v.name ? ` (${v.name})` : ''}`);
  out(`understood as: ${v.rule} (time zone ${v.tz})`);
  out(`next runs: ${v.runs.join(', ') || 'none'}`);
}

/** JSON Lines, one schedule a line (the API's shape), added in pages of MAX_BULK. */
async function importFile(config: Config, file: string, o: { json?: boolean }, out: Out): Promise<void> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read ${file}: ${(err as Error).message}`);
  }
  const lines = text
    .split('\n')
    .map((l, i) => ({ l: l.trim(), n: i + 1 }))
    .filter((x) => x.l !== '');
  const refused: Array<{ line: number; error: string }> = [];
  let added = 0;
  await withStore(config, async (s) => {
    for (let i = 0; i < lines.length; i += MAX_BULK) {
      const page: Array<{ n: number; input: unknown }> = [];
      for (const x of lines.slice(i, i + MAX_BULK)) {
        try {
          page.push({ n: x.n, input: JSON.parse(x.l) as unknown });
        } catch (err) {
          refused.push({ line: x.n, error: `not JSON: ${(err as Error).message}` });
        }
      }
      const r = page.length > 0 ? await s.addMany(page.map((x) => x.input)) : [];
      r.forEach((v, k) => {
        if ('error' in v) refused.push({ line: page[k]?.n ?? 0, error: v.error });
        else added++;
      });
    }
  });
  refused.sort((a, b) => a.line - b.line);
  if (o.json) out(JSON.stringify({ added, refused }));
  else {
    out(`added or replaced ${added} schedule(s); refused ${refused.length}`);
    for (const r of refused.slice(0, 20)) out(`  line ${r.line}: ${r.error}`);
    if (refused.length > 20) out(`  … and ${refused.length - 20} more (--json lists them all)`);
  }
  // The good lines are in; the exit code says that some were not.
  if (refused.length > 0) throw new UsageError(`${refused.length} line(s) of ${file} refused; the others were added`);
}

async function list(
  config: Config,
  o: { kind?: string; user?: string; item?: string; limit?: string; cursor?: string; json?: boolean },
  out: Out,
): Promise<void> {
  const limit = o.limit === undefined ? undefined : Number(o.limit);
  if (limit !== undefined && !(Number.isInteger(limit) && limit >= 1 && limit <= MAX_PAGE)) {
    throw new UsageError(`--limit takes a whole number from 1 to ${MAX_PAGE}, not ${JSON.stringify(o.limit)}`);
  }
  const page = await withStore(config, async (s) => {
    if (o.user !== undefined || o.item !== undefined)
      return {
        schedules: await s.ofSubject(o.user !== undefined ? 'user' : 'item', (o.user ?? o.item) as string, o.kind),
        cursor: undefined,
      };
    return s.list({ kind: o.kind, limit, cursor: o.cursor });
  });
  if (o.json) return out(JSON.stringify(page, null, 2));
  out(rows(page.schedules));
  if (page.cursor) out(`\nmore: spotter-jobs schedule list${o.kind ? ` --kind ${o.kind}` : ''} --cursor ${page.cursor}`);
}

async function one(
  config: Config,
  id: string,
  verb: 'show' | 'pause' | 'resume' | 'remove',
  o: { json?: boolean },
  out: Out,
): Promise<void> {
  if (verb === 'remove') {
    if (!(await withStore(config, (s) => s.remove(id)))) throw new UsageError(`no schedule ${id} (spotter-jobs schedule list shows them)`);
    return out(o.json ? JSON.stringify({ id, removed: true }) : `schedule ${id} removed`);
  }
  const r = await withStore(config, (s) => (verb === 'show' ? s.get(id) : s[verb](id)));
  if (!r) throw new UsageError(`no schedule ${id} (spotter-jobs schedule list shows them)`);
  if (o.json) return out(JSON.stringify(r, null, 2));
  out(rows([r]));
  if (r.countLeft !== undefined || r.until) out(`runs left: ${r.countLeft ?? '-'}; until: ${r.until ?? '-'}`);
}

/** Registers the `schedule` command group. */
export function scheduleCommands(p: Command, cfg: () => Promise<Config>, out: Out): void {
  const help = variablesHelp(['cli']);
  const g = p
    .command('schedule')
    .description("subject schedules: a user's or an item's own runs of a kind, on any trigger")
    .addHelpText('after', help);
  g.command('add')
    .description(
      'create or replace (same kind, subject and name) a schedule; prints its id, the trigger as understood and the next three runs',
    )
    .argument('<kind>', 'a user or item kind of the catalog')
    .option('--user <id>', 'user kinds: the user')
    .option('--item <id>', 'item kinds: the item')
    .option('--data <json>', "item kinds: the item's data, as JSON")
    .option('--rule <trigger>', 'at <ISO>, a Go duration, cron, an RRULE, or English ("every weekday at 7:30")')
    .option('--at <iso-8601>', 'once, at this time (the same as --rule "at <time>")')
    .option('--tz <zone>', 'IANA time zone of the trigger (default SPOTTER_JOBS_TZ)')
    .option('--name <name>', 'tells apart several schedules of one subject and kind')
    .option('--until <iso-8601>', 'no run after this time')
    .option('--count <n>', 'this many runs, then the schedule ends')
    .option('--json', 'print JSON: { id, rule, next }')
    .action(async (kind: string, o: AddOpts) => add(await cfg(), kind, o, out));
  g.command('import')
    .description(`create or replace many: a JSON Lines file, one schedule a line ({"kind","user"|"item","rule",…}), ${MAX_BULK} a page`)
    .argument('<file>', 'JSON Lines file')
    .option('--json', 'print JSON')
    .action(async (file: string, o) => importFile(await cfg(), file, o, out));
  g.command('list')
    .description('schedules, in id order (or those of one user or item)')
    .option('--kind <kind>', 'only this kind')
    .option('--user <id>', "only this user's")
    .option('--item <id>', "only this item's")
    .option('--limit <n>', 'at most this many (1 to 1000)', '100')
    .option('--cursor <c>', 'go on from where the last page stopped')
    .option('--json', 'print JSON')
    .action(async (o) => list(await cfg(), o, out));
  for (const verb of ['show', 'pause', 'resume', 'remove'] as const) {
    g.command(verb)
      .description(
        { show: 'one schedule', pause: 'stop its runs until resumed', resume: 'run again, from now on', remove: 'delete it' }[verb],
      )
      .argument('<id>', 'schedule id')
      .option('--json', 'print JSON')
      .action(async (id: string, o) => one(await cfg(), id, verb, o, out));
  }
}
