/**
 * A kind's title: the name a person reads ("Monthly Credit Top-Up") beside the kebab-case name that
 * keys, queues and variables use. Optional; shown on the board, the status page, `status` and in logs.
 */
import { ConfigError } from './errors.js';

/** Longest title accepted: it sits in a table column and on every log line of the kind. */
export const TITLE_MAX = 80;

/** The declared title, checked: a string of 1 to TITLE_MAX printable characters on one line. */
export function titleOf(name: string, title: unknown, source: string | undefined): string | undefined {
  if (title === undefined) return undefined;
  const where = `${source ?? 'built-in catalog'}: kind "${name}" field "title"`;
  const expected = `a string of 1 to ${TITLE_MAX} characters on one line, such as "Monthly Credit Top-Up"`;
  if (typeof title !== 'string') throw new ConfigError(where, JSON.stringify(title)?.slice(0, 100) ?? String(title), expected);
  const t = title.trim();
  // Control characters (newlines included) would break a log line or a table row.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching them is the point
  if (t.length === 0 || t.length > TITLE_MAX || /[\u0000-\u001f\u007f]/.test(t))
    throw new ConfigError(where, title.slice(0, 100), expected);
  return t;
}

/** `name` alone, or `name (Title)`: how a kind is named to a person. */
export function labelOf(kind: { name: string; title?: string | undefined }): string {
  return kind.title ? `${kind.name} (${kind.title})` : kind.name;
}
