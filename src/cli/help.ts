/** `--help` text: the environment variables a command reads, from the one list in config.ts. */
import { VARIABLES, type Variable } from '../config/variables.js';

export function variablesHelp(roles: ReadonlyArray<Variable['roles'][number]>): string {
  const rows = VARIABLES.filter((v) => v.roles.some((r) => roles.includes(r)));
  const width = Math.max(...rows.map((v) => v.name.length));
  const lines = rows.map((v) => `  ${v.name.padEnd(width)}  ${v.description}${v.default !== undefined ? ` (default ${v.default})` : ''}`);
  return `\nEnvironment variables:\n${lines.join('\n')}\n`;
}
