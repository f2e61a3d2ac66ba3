/** `--help` text: the environment variables a command reads, from the one list in config.ts. */
import { VARIABLES, type Variable } from '../config/variables.js';

export function variablesHelp(roles: ReadonlyArray<Variable['roles'][number]>): string {
  const rows = VARIABLES.filter((v) => v.roles.some((r) => roles.includes(r)));
  const width = Math.max(...rows.map((v) => v.name.length));
  const lines = rows.map((v) => `  ${v.name.padEnd(width)}  ${v.description}${v.default !== undefined ? ` (default ${v.default})` : ''}`);
  // The table names Spotter's three kinds; a service reads the same fields of every kind it runs.
  const perKind = roles.some((r) => r !== 'cli')
    ? `\nEvery kind, the module's own too, also reads the SPOTTER_JOBS_<KIND>_<FIELD> variables of docs/kinds.md,\nas Spotter's three do above: among them fair admission's _FAIR, _FAIR_WINDOW and _OWNER_CONCURRENCY.\n`
    : '';
  return `\nEnvironment variables:\n${lines.join('\n')}\n${perKind}`;
}
