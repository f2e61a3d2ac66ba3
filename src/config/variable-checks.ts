/**
 * The checks of the environment as a whole: a misspelled SPOTTER_JOBS_ variable stops start-up
 * naming the closest known one, and a kind may not read a variable of the service.
 */
import { BUILTIN_KINDS, envStemOf } from './catalog.js';
import { ConfigError, UnknownVariableError } from './errors.js';
import type { Declarations } from './kind-config.js';
import { KIND_FIELDS, kindVariable } from './kind-fields.js';
import { VARIABLES } from './variables.js';

/** Read by docker-compose.yml for the published port, not by the service. */
const COMPOSE_ONLY = ['SPOTTER_JOBS_BOARD_PORT'];
/** Kubernetes injects `<SERVICE>_SERVICE_HOST`, `<SERVICE>_PORT_6379_TCP…` for every Service, spotter-jobs-* ones included. */
const SERVICE_LINK = /_(SERVICE_HOST|SERVICE_PORT(_[A-Z0-9_]+)?|PORT(_\d+_(TCP|UDP|SCTP)(_PROTO|_PORT|_ADDR)?)?)$/;

/** A misspelled SPOTTER_JOBS_ variable would be ignored silently; refuse it, naming the closest known one. */
export function refuseUnknownVariables(env: NodeJS.ProcessEnv, catalog: Declarations): void {
  const known = new Set([...VARIABLES.map((v) => v.name), ...COMPOSE_ONLY]);
  // A kind whose schedule or enabled switch keeps Spotter's own name (SPOTTER_METADATA_ENABLED) is
  // still guessed by the usual pattern (SPOTTER_JOBS_ENRICHMENT_ENABLED): point at the real one.
  const renamed = new Map<string, string>();
  for (const [name, { decl }] of Object.entries(catalog)) {
    for (const [field, suffix] of KIND_FIELDS) {
      const variable = kindVariable(name, decl, field);
      known.add(variable);
      const usual = `SPOTTER_JOBS_${envStemOf(name, decl)}_${suffix}`;
      if (usual !== variable) renamed.set(usual, variable);
    }
  }
  for (const name of Object.keys(env)) {
    if (!name.startsWith('SPOTTER_JOBS_') || known.has(name)) continue;
    if (SERVICE_LINK.test(name) && env[name]?.match(/^(tcp|udp|sctp):\/\/|^[\d.:a-f]+$/i)) continue;
    throw new UnknownVariableError(name, renamed.get(name) ?? closest(name, known));
  }
}

/** A kind named `shutdown` would read SPOTTER_JOBS_SHUTDOWN_TIMEOUT, the service's own deadline, as its timeout. */
export function refuseServiceVariables(catalog: Declarations): void {
  const builtinOnes = new Set(
    Object.entries(BUILTIN_KINDS).flatMap(([name, decl]) => KIND_FIELDS.map(([field]) => kindVariable(name, decl, field))),
  );
  const own = new Set(VARIABLES.map((v) => v.name).filter((n) => !builtinOnes.has(n)));
  for (const [name, { decl, source }] of Object.entries(catalog)) {
    for (const [field] of KIND_FIELDS) {
      const variable = kindVariable(name, decl, field);
      if (own.has(variable))
        throw new ConfigError(
          `${source ?? 'built-in catalog'}: kind "${name}"`,
          name,
          `a name whose variables are its own (its field "${field}" would be read from ${variable}, a variable of the service)`,
        );
    }
  }
}

/** Levenshtein distance, for "did you mean". */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++)
      cur[j] = Math.min((prev[j] as number) + 1, (cur[j - 1] as number) + 1, (prev[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length] as number;
}

function closest(name: string, known: Set<string>): string {
  let best = '';
  let bestD = Number.POSITIVE_INFINITY;
  for (const k of known) {
    const d = distance(name, k);
    if (d < bestD) [best, bestD] = [k, d];
  }
  return best;
}
