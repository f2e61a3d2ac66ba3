#!/usr/bin/env node
/**
 * `spotter-jobs <command>`. Exit codes: 0 success, 1 runtime failure, 2 bad command line,
 * 78 bad configuration (the message names the variable, the value and the accepted form).
 */
import { Command, CommanderError, Option } from 'commander';
import { pauseCommand, statusCommand, triggerCommand, UsageError, userCommand } from './cli/commands.js';
import { dlqList, dlqPurge, dlqReplay } from './cli/dlq.js';
import { forgetCommand } from './cli/forget.js';
import { variablesHelp } from './cli/help.js';
import { ownerCommands } from './cli/owner.js';
import { scheduleCommands } from './cli/schedule.js';
import { serve } from './cli/serve.js';
import type { Config } from './config/config.js';
import { ConfigError } from './config/errors.js';
import type { KindConfig } from './config/kind-config.js';
import { loadSettings } from './config/load.js';
import { kindByNameOrQueue, kindsOf } from './jobs/registry.js';

export const EXIT = { ok: 0, failure: 1, usage: 2, config: 78 } as const;

const out = (s: string) => process.stdout.write(`${s}\n`);
// `spotter-jobs status | head` closes the pipe early: that is the reader's choice, not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});
let config: Promise<Config> | undefined;
/** Read once, on first use: the catalog may live in the handler module, which is imported then. */
const cfg = () => (config ??= loadSettings());

/** `--queues`: kinds by name or by queue name; empty means every kind of the catalog. */
function parseQueues(c: Config, list: string | undefined): KindConfig[] {
  if (list === undefined) return kindsOf(c);
  const names = [
    ...new Set(
      list
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    ),
  ];
  const kinds = names.map((n) => kindByNameOrQueue(c, n));
  if (names.length === 0 || kinds.some((k) => !k)) {
    throw new UsageError(
      `--queues "${list}": expected a comma-separated subset of ${kindsOf(c)
        .map((k) => k.queue)
        .join(',')}`,
    );
  }
  return kinds as KindConfig[];
}

function program(): Command {
  const p = new Command('spotter-jobs')
    .description('Recurring per-user background work for Spotter on BullMQ and Redis')
    .showHelpAfterError()
    .exitOverride();
  serviceCommands(p);
  operatorCommands(p);
  dlqCommands(p);
  scheduleCommands(p, cfg, out);
  ownerCommands(p, cfg, out);
  return p;
}

/** The long-running processes: producer, worker, or both in one. */
function serviceCommands(p: Command): void {
  p.command('producer')
    .description('reconcile schedules, fan ticks out into jobs, serve the HTTP surface')
    .addHelpText('after', variablesHelp(['producer']))
    .action(async () => serve(await cfg(), 'producer'));
  p.command('worker')
    .description('consume jobs')
    .option('--queues <list>', 'comma-separated kinds (or queues) to consume; default: every kind of the catalog')
    .addHelpText('after', variablesHelp(['worker']))
    .action(async (o: { queues?: string }) => {
      const c = await cfg();
      return serve(c, 'worker', parseQueues(c, o.queues));
    });
  p.command('all')
    .description('producer and worker in one process (small installs, development, npm start)')
    .addHelpText('after', variablesHelp(['producer', 'worker']))
    .action(async () => serve(await cfg(), 'all'));
}

/** One-shot commands on the kinds and users: status, trigger, user, pause and resume, forget. */
function operatorCommands(p: Command): void {
  p.command('status')
    .description('schedules (interval, next run, last run and its result), job counts per queue and state, and the backlogs of fair kinds')
    .option('--json', 'print JSON')
    .addHelpText('after', variablesHelp(['cli']))
    .action(async (o) => statusCommand(await cfg(), o, out));
  p.command('trigger')
    .description("run a kind now or at a time: a user kind's fan-out, one user's job, a global job or one item's job")
    .argument('<kind>', 'a kind of the catalog (see status)')
    .option('--user <id>', 'user kinds: only this user')
    .option('--item <id>', 'item kinds: the item')
    .option('--data <json>', "item kinds: the item's data, as JSON")
    .option('--owner <id>', 'item and global kinds: whose job it is (fair admission shares a kind among owners)')
    .option('--at <iso-8601>', 'run at this time instead of now')
    .option('--json', 'print JSON')
    .addHelpText('after', variablesHelp(['cli']))
    .action(async (kind: string, o) => triggerCommand(await cfg(), kind, o, out));
  p.command('user')
    .description(
      "one user's history: each kind's last run, the job pending now, the next tick, dead letters, and its jobs waiting for fair admission",
    )
    .argument('<id>', 'the user id')
    .option('--json', 'print JSON')
    .addHelpText('after', variablesHelp(['cli']))
    .action(async (id: string, o) => userCommand(await cfg(), id, o, out));
  for (const [name, pause] of [
    ['pause', true],
    ['resume', false],
  ] as const) {
    p.command(name)
      .description(
        pause
          ? 'pause a schedule: its ticks are skipped (trigger still works) until resumed; survives restarts'
          : 'resume a paused schedule, on its original cadence',
      )
      .argument('<schedule>', 'a scheduled kind (see status)')
      .option('--json', 'print JSON')
      .addHelpText('after', variablesHelp(['cli']))
      .action(async (kind: string, o) => pauseCommand(await cfg(), kind, pause, o, out));
  }
  p.command('forget')
    .description('remove the queue and dead letters of a kind gone from the catalog (status lists them under "Left behind")')
    .argument('<kind>', 'the kind or its queue')
    .option('--yes', 'really remove its jobs and dead letters, for good')
    .option('--json', 'print JSON')
    .addHelpText('after', variablesHelp(['cli']))
    .action(async (kind: string, o) => forgetCommand(await cfg(), kind, o, out));
}

/** `dlq list`, `dlq replay` and `dlq purge`. */
function dlqCommands(p: Command): void {
  const dlq = p
    .command('dlq')
    .description('inspect and act on the dead-letter queue')
    .addHelpText('after', variablesHelp(['cli']));
  dlq
    .command('list')
    .description('dead letters, newest first')
    .option('--queue <q>', 'only from this source queue')
    .option('--limit <n>', 'at most this many', '50')
    .option('--json', 'print JSON')
    .addHelpText('after', variablesHelp(['cli']))
    .action(async (o) => dlqList(await cfg(), o, out));
  dlq
    .command('replay')
    .description('put dead letters back on their source queue with fresh attempts')
    .argument('[ids...]', 'dead-letter ids (from dlq list)')
    .option('--all', 'every dead letter')
    .option('--queue <q>', 'every dead letter from this source queue')
    .option('--json', 'print JSON')
    .addHelpText('after', variablesHelp(['cli']))
    .action(async (ids: string[], o) => dlqReplay(await cfg(), ids, o, out));
  dlq
    .command('purge')
    .description('delete dead letters')
    .option('--queue <q>', 'only from this source queue')
    .addOption(new Option('--older-than <duration>', 'only those dead-lettered longer ago than this Go duration (e.g. 168h)'))
    .option('--json', 'print JSON')
    .addHelpText('after', variablesHelp(['cli']))
    .action(async (o) => dlqPurge(await cfg(), o, out));
}

export async function main(argv: string[]): Promise<void> {
  try {
    await program().parseAsync(argv);
  } catch (err) {
    process.exitCode = exitCodeFor(err);
  }
}

function exitCodeFor(err: unknown): number {
  if (err instanceof CommanderError) {
    // Commander already printed the message (and help); help and version are successes.
    return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
  }
  if (err instanceof ConfigError) {
    process.stderr.write(`spotter-jobs: configuration error: ${err.message}\n`);
    return EXIT.config;
  }
  if (err instanceof UsageError) {
    process.stderr.write(`spotter-jobs: ${err.message}\n`);
    return EXIT.usage;
  }
  process.stderr.write(`spotter-jobs: ${err instanceof Error ? err.message : String(err)}\n`);
  return EXIT.failure;
}

await main(process.argv);
