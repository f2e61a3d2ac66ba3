/** Checks the catalog's declarations as a whole before any kind is configured. */
import { type BuiltinKind, KIND_NAME, RESERVED_QUEUES, SCOPES } from './catalog.js';
import { ConfigError } from './errors.js';
import type { Declarations } from './kind-config.js';
import { KIND_FIELDS, type KindField, kindVariable } from './kind-fields.js';

const KNOWN_FIELDS = new Set<string>([...KIND_FIELDS.map(([f]) => f), 'scope', 'schema', 'followUps', 'description', 'title', 'run']);
const BUILTIN_ONLY = new Set(['queue', 'envStem', 'scheduleVar', 'enabledVar', 'demoLatencyMs']);

/** Checks the declarations as a whole: names, scopes, fields and follow-ups. */
export function checkDeclarations(all: Declarations): void {
  const queues = new Map<string, string>();
  const variables = new Map<string, { kind: string; field: KindField }>();
  for (const [name, { decl, source }] of Object.entries(all)) {
    checkKind(name, decl, source);
    claimQueue(queues, name, decl, source);
    claimVariables(variables, name, decl, source);
    checkFollowUps(all, name, decl, source);
  }
}

function whereOf(name: string, source: string | undefined): (field: string) => string {
  return (field: string) => `${source ?? 'built-in catalog'}: kind "${name}" field "${field}"`;
}

/** One declaration on its own: its name, its fields, its scope and what that scope allows. */
function checkKind(name: string, decl: BuiltinKind, source: string | undefined): void {
  const where = whereOf(name, source);
  if (!KIND_NAME.test(name)) {
    throw new ConfigError(
      `${source ?? 'built-in catalog'}: kind "${name}"`,
      name,
      'a kind name of a-z, 0-9 and -, starting with a letter, at most 40 characters',
    );
  }
  if (decl === null || typeof decl !== 'object') throw new ConfigError(where('scope'), String(decl), 'an object with at least a scope');
  if (source) {
    for (const field of Object.keys(decl)) {
      if (!KNOWN_FIELDS.has(field) || BUILTIN_ONLY.has(field)) {
        throw new ConfigError(
          where(field),
          String((decl as unknown as Record<string, unknown>)[field]),
          `a known field (${[...KNOWN_FIELDS].join(', ')})`,
        );
      }
    }
  }
  if (!(SCOPES as readonly string[]).includes(decl.scope)) throw new ConfigError(where('scope'), String(decl.scope), SCOPES.join(', '));
  if (decl.scope === 'item' && decl.schedule !== undefined) {
    throw new ConfigError(where('schedule'), String(decl.schedule), 'no schedule: item kinds are added by other jobs, trigger or the API');
  }
  if (decl.schema !== undefined && decl.scope !== 'item') {
    throw new ConfigError(where('schema'), '(a schema)', 'no schema: only item kinds carry data');
  }
}

/** Each kind needs a queue of its own, and none of the service's own queues. */
function claimQueue(queues: Map<string, string>, name: string, decl: BuiltinKind, source: string | undefined): void {
  const queue = decl.queue ?? name;
  if ((RESERVED_QUEUES as readonly string[]).includes(queue)) {
    throw new ConfigError(
      `${source ?? 'built-in catalog'}: kind "${name}"`,
      name,
      `a name other than ${RESERVED_QUEUES.join(' and ')} (the service's own queues)`,
    );
  }
  const other = queues.get(queue);
  if (other)
    throw new ConfigError(
      `${source ?? 'built-in catalog'}: kind "${name}"`,
      name,
      `a queue of its own ("${queue}" is taken by kind "${other}")`,
    );
  queues.set(queue, name);
}

/** Follow-ups are a list of kinds that are in the catalog. */
function checkFollowUps(all: Declarations, name: string, decl: BuiltinKind, source: string | undefined): void {
  if (decl.followUps === undefined) return;
  const where = whereOf(name, source);
  if (!Array.isArray(decl.followUps)) throw new ConfigError(where('followUps'), String(decl.followUps), 'a list of kind names');
  for (const f of decl.followUps) {
    if (!Object.hasOwn(all, f))
      throw new ConfigError(where('followUps'), String(f), `a kind in the catalog (${Object.keys(all).join(', ')})`);
  }
}

/**
 * Each per-kind variable must set one field of one kind: with kinds `report` and `report-global`,
 * SPOTTER_JOBS_REPORT_GLOBAL_CONCURRENCY would set both `report`'s globalConcurrency and
 * `report-global`'s concurrency.
 */
function claimVariables(taken: Map<string, { kind: string; field: KindField }>, name: string, decl: BuiltinKind, source?: string): void {
  for (const [field] of KIND_FIELDS) {
    const variable = kindVariable(name, decl, field);
    const other = taken.get(variable);
    if (other && other.kind !== name) {
      throw new ConfigError(
        `${source ?? 'built-in catalog'}: kind "${name}"`,
        name,
        `variables of its own (${variable} would set both field "${field}" of kind "${name}" and field "${other.field}" of kind "${other.kind}")`,
      );
    }
    taken.set(variable, { kind: name, field });
  }
}
