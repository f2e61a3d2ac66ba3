/**
 * Where the kinds come from: the built-in catalog, plus the `jobs` a handler module exports
 * (module mode) or the kinds a catalog file declares (`SPOTTER_JOBS_CATALOG`, HTTP mode).
 */
import { existsSync, readFileSync } from 'node:fs';
import { register } from 'node:module';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { BUILTIN_KINDS, type BuiltinKind } from './catalog.js';
import { checkDeclarations } from './declarations.js';
import { ConfigError } from './errors.js';
import type { Declarations } from './kind-config.js';

export const HANDLERS_VAR = 'SPOTTER_JOBS_HANDLERS';
export const CATALOG_VAR = 'SPOTTER_JOBS_CATALOG';

export type ModuleExports = Record<string, unknown>;

const cache = new Map<string, Promise<ModuleExports>>();
let hooked = false;

/** Lets handler modules import 'spotter-jobs' (PermanentError, types) wherever they live. */
function resolveSelf(): void {
  if (hooked) return;
  hooked = true;
  const hook = new URL('./self-resolve.js', import.meta.url);
  // Only the built service has the compiled hook; run from source (tests), the package resolves itself.
  if (existsSync(hook)) register(hook);
}

/** Imports a handler module once per process; its default export's fields count as named exports. */
export function importHandlerModule(path: string): Promise<ModuleExports> {
  const href = pathToFileURL(resolve(path)).href;
  let p = cache.get(href);
  if (!p) {
    resolveSelf();
    p = import(href).then(
      (mod: ModuleExports) => (mod.default && typeof mod.default === 'object' ? { ...(mod.default as object), ...mod } : mod),
      (err: Error) => {
        cache.delete(href);
        throw new ConfigError(HANDLERS_VAR, path, `a loadable JS module (${err.message})`);
      },
    );
    cache.set(href, p);
  }
  return p;
}

function builtins(only?: (name: string, decl: BuiltinKind) => boolean): Declarations {
  const out: Declarations = {};
  for (const [name, decl] of Object.entries(BUILTIN_KINDS)) if (!only || only(name, decl)) out[name] = { decl, source: undefined };
  return out;
}

function addDeclared(into: Declarations, jobs: unknown, source: string, needRun: boolean): void {
  if (jobs === null || typeof jobs !== 'object' || Array.isArray(jobs)) {
    throw new ConfigError(source, typeof jobs, 'an object mapping kind names to their declarations');
  }
  // `{ __proto__: … }` in a module sets the object's prototype rather than declaring a kind.
  const proto = Object.getPrototypeOf(jobs);
  if (proto !== Object.prototype && proto !== null) {
    throw new ConfigError(
      `${source}: kind "__proto__"`,
      '__proto__',
      'a kind name of a-z, 0-9 and -, starting with a letter, at most 40 characters',
    );
  }
  for (const [name, decl] of Object.entries(jobs as Record<string, BuiltinKind>)) {
    if (decl === null || typeof decl !== 'object' || Array.isArray(decl)) {
      throw new ConfigError(`${source}: kind "${name}"`, String(decl), 'an object with at least a scope');
    }
    if (Object.hasOwn(into, name)) {
      throw new ConfigError(`${source}: kind "${name}"`, name, 'a name not already in the catalog (duplicate kind)');
    }
    if (needRun && typeof (decl as { run?: unknown } | null)?.run !== 'function') {
      throw new ConfigError(
        `${source}: kind "${name}" field "run"`,
        String((decl as { run?: unknown } | null)?.run),
        'the handler function',
      );
    }
    // Defined, not assigned: a kind named `__proto__` (YAML and JSON make it an own key) would
    // otherwise set the prototype and vanish, instead of being refused by its name.
    Object.defineProperty(into, name, { value: { decl, source }, enumerable: true, writable: true, configurable: true });
  }
}

/** The built-in catalog alone: demo mode, and tests that need no module. */
export function builtinCatalog(): Declarations {
  return builtins();
}

/**
 * Reads the catalog the environment points at. A module that exports `jobs` owns its catalog: the
 * Spotter kinds are in it only if it also exports their functions (`sync`, `enrichment`, `writeback`).
 */
export async function loadCatalog(env: NodeJS.ProcessEnv = process.env): Promise<Declarations> {
  const get = (n: string) => (env[n]?.trim() ? env[n] : undefined);
  const modulePath = get(HANDLERS_VAR);
  const catalogPath = get(CATALOG_VAR);
  let out: Declarations;
  if (modulePath) {
    if (catalogPath)
      throw new ConfigError(CATALOG_VAR, catalogPath, `unset in module mode (${HANDLERS_VAR}): the module exports its kinds as "jobs"`);
    const mod = await importHandlerModule(modulePath);
    if (mod.jobs === undefined) return checked(builtins());
    out = builtins((name, decl) => typeof mod[decl.queue ?? name] === 'function');
    addDeclared(out, mod.jobs, `${HANDLERS_VAR} jobs`, true);
  } else if (catalogPath) {
    if (!get('SPOTTER_URL'))
      throw new ConfigError(CATALOG_VAR, catalogPath, 'set only with SPOTTER_URL (HTTP mode); in module mode export "jobs"');
    let doc: unknown;
    try {
      doc = parseYaml(readFileSync(catalogPath, 'utf8'));
    } catch (err) {
      throw new ConfigError(CATALOG_VAR, catalogPath, `a readable YAML or JSON file (${(err as Error).message.split('\n')[0]})`);
    }
    const jobs = (doc as { jobs?: unknown } | null)?.jobs;
    if (jobs === undefined) throw new ConfigError(CATALOG_VAR, catalogPath, 'a file with a top-level "jobs" object of kinds');
    out = builtins();
    addDeclared(out, jobs, CATALOG_VAR, false);
    for (const [name, { decl }] of Object.entries(out)) {
      if (decl.run !== undefined)
        throw new ConfigError(`${CATALOG_VAR}: kind "${name}" field "run"`, String(decl.run), 'no run: Spotter does the work in HTTP mode');
      // A file holds no code: `{ next(after) }` schedules are for module mode.
      if (typeof decl.schedule === 'object' && decl.schedule !== null)
        throw new ConfigError(
          `${CATALOG_VAR}: kind "${name}" field "schedule"`,
          JSON.stringify(decl.schedule),
          'a schedule text (a Go duration, cron, RRULE or English such as "every day at 08:00"); a schedule function ({ next(after) }) only in module mode',
        );
    }
  } else {
    out = builtins();
  }
  return checked(out);
}

function checked(d: Declarations): Declarations {
  checkDeclarations(d);
  return d;
}
