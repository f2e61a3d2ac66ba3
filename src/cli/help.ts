/** `--help` text: the environment variables a command reads, from the one list in config.ts. */
import { KIND_FIELDS } from '../config/kind-fields.js';
import { VARIABLES, type Variable } from '../config/variables.js';

export function variablesHelp(roles: ReadonlyArray<Variable['roles'][number]>): string {
  const rows = VARIABLES.filter((v) => v.roles.some((r) => roles.includes(r)));
  const width = Math.max(...rows.map((v) => v.name.length));
  const lines = rows.map((v) => `  ${v.name.padEnd(width)}  ${v.description}${v.default !== undefined ? ` (default ${v.default})` : ''}`);
  // The table names Spotter's three kinds; a service reads the same fields for every kind it runs.
  const perKind = roles.some((r) => r !== 'cli')
    ? `\nEvery kind, the module's own too, also reads SPOTTER_JOBS_<KIND>_<FIELD> (docs/kinds.md), FIELD one of:\n${wrap(KIND_FIELDS.map(([, f]) => f))}\n`
    : '';
  return `\nEnvironment variables:\n${lines.join('\n')}\n${perKind}`;
}

/** Names as indented lines of at most 100 characters. */
function wrap(names: readonly string[]): string {
  const lines: string[] = [];
  let line = '';
  for (const n of names) {
    const next = line ? `${line}, ${n}` : n;
    if (next.length > 96 && line) {
      lines.push(`${line},`);
      line = n;
    } else line = next;
  }
  lines.push(line);
  return lines.map((l) => `  ${l}`).join('\n');
}
