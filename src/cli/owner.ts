/** `owner weight <id> [n]`: an owner's weight in fair admission, read or set at run time. */
import type { Command } from 'commander';
import type { Config } from '../config/config.js';
import { formatDuration } from '../config/duration.js';
import { InvalidJobError } from '../jobs/errors.js';
import { hasBacklog, type KindOwnerBacklog, type OwnerReport, ownerReport, setWeight } from '../ops/owners.js';
import { variablesHelp } from './help.js';
import { table } from './print.js';
import { type Out, UsageError, withCatalog } from './session.js';

const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

export async function ownerWeightCommand(
  config: Config,
  owner: string,
  weight: string | undefined,
  opts: { json?: boolean },
  out: Out,
): Promise<void> {
  let n: number | undefined;
  if (weight !== undefined) {
    // Decimal notation, exponent and all (1e3, .5, 2.); the range is checked with the weight.
    n = Number(weight);
    if (!DECIMAL.test(weight.trim()) || !Number.isFinite(n))
      throw new UsageError(`weight "${weight}" is not a number such as 2, 0.5, .5 or 1e3`);
  }
  const r: OwnerReport = await withCatalog(config, (q, c) =>
    n === undefined ? ownerReport(q, c, owner) : setWeight(q, c, owner, n),
  ).catch((err: unknown) => {
    if (err instanceof InvalidJobError) throw new UsageError(err.message);
    throw err;
  });
  if (opts.json) return out(JSON.stringify(r, null, 2));
  out(
    `${n === undefined ? 'Owner' : 'Set: owner'} ${r.owner} has weight ${r.weight}${r.weight === 1 ? ' (the default)' : ''} in every fair kind`,
  );
  if (r.backlog.length === 0) return out('No kind of this catalog is fair: the weight applies to none of them');
  const rows = backlogTable(r.backlog);
  if (rows) return out(`\nWaiting for admission\n${rows}`);
  // No owner list to check an id against: a weight may be set ahead of an owner's first job. Said,
  // so a mistyped id is noticed. Jobs already in the queue or running are not counted.
  const kept = n !== undefined && n !== 1 ? '; the weight is kept for its jobs until set back to 1' : '';
  out(`No job of ${r.owner} waits for admission now${kept}`);
}

/**
 * An owner's jobs waiting for admission per fair kind, for `owner weight` and `user <id>`: those
 * waiting now and those added with a delay not over yet; undefined when there are none.
 */
export function backlogTable(backlog: readonly KindOwnerBacklog[]): string | undefined {
  const rows = backlog.filter(hasBacklog);
  if (rows.length === 0) return undefined;
  return table(
    rows.map((b) => ({
      kind: b.kind,
      jobs: b.waiting,
      'oldest waited': b.oldestMs === null ? '-' : formatDuration(b.oldestMs),
      'due later': `${b.laterAtLeast ? 'at least ' : ''}${b.later}`,
    })),
  );
}

/** Registers `owner weight`. */
export function ownerCommands(p: Command, cfg: () => Promise<Config>, out: Out): void {
  const owner = p
    .command('owner')
    .description("owners of jobs in fair admission: a user, or an item job's owner")
    .addHelpText('after', variablesHelp(['cli']));
  owner
    .command('weight')
    .description("show an owner's weight in fair admission, or set it (default 1; 2 gets twice the starts of 1 while both have work)")
    .argument('<id>', "the owner: a user id, or '*' for the jobs nobody owns")
    .argument('[weight]', 'the new weight, from 0.01 to 10000')
    .option('--json', 'print JSON')
    .addHelpText('after', variablesHelp(['cli']))
    .action(async (id: string, weight: string | undefined, o) => ownerWeightCommand(await cfg(), id, weight, o, out));
}
