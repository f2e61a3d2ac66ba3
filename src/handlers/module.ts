/**
 * Module mode: `SPOTTER_JOBS_HANDLERS` names a JS module exporting `listUsers`, one function per
 * Spotter kind (`sync`, `enrichment`, `writeback`, by queue name) and optionally more kinds as
 * `jobs`, each with its `run`. Checked once at load so a typo fails start-up instead of every job.
 */
import { HANDLERS_VAR, importHandlerModule } from '../config/catalog-source.js';
import { ConfigError } from '../config/errors.js';
import type { KindConfig } from '../config/kind-config.js';
import type { ListPosition, UserPage } from './list-position.js';
import { type AnyHandler, type Handlers, paginate } from './types.js';
import { skipTo } from './user-pages.js';

type UserList = AsyncIterable<string> | Iterable<string>;

const SIGNATURE = { user: '(userId, ctx)', global: '(ctx)', item: '({ id, data }, ctx)' } as const;

export async function moduleHandlers(
  path: string,
  kinds: readonly KindConfig[],
  roles: { needsUsers: boolean; kinds: readonly KindConfig[] },
): Promise<Handlers> {
  const exports = await importHandlerModule(path);
  const listUsers = exports.listUsers;
  // Only a producer with a scheduled user kind pages through users.
  const fansOut = kinds.some((k) => k.scope === 'user' && k.schedule?.enabled);
  if (roles.needsUsers && fansOut && typeof listUsers !== 'function' && !isIterable(listUsers)) {
    throw new ConfigError(
      HANDLERS_VAR,
      path,
      'a module exporting listUsers (an async iterable of user ids, a function returning one, or a function of { cursor, limit } returning { users, nextCursor })',
    );
  }
  const run = kindHandlers(exports, path, kinds, roles.kinds);
  const listFrom = listingFrom(listUsers);
  return {
    mode: 'module',
    listUsers: async function* (pageSize) {
      for await (const page of listFrom({ skip: 0 }, pageSize)) if (page.users.length > 0) yield page.users;
    },
    listFrom,
    run,
  };
}

/**
 * Each kind's function from the module; a kind this process runs must have one, any other gets a
 * handler that fails its job naming the missing export.
 */
function kindHandlers(
  exports: Record<string, unknown>,
  path: string,
  kinds: readonly KindConfig[],
  runs: readonly KindConfig[],
): Record<string, AnyHandler> {
  const jobs = (exports.jobs ?? {}) as Record<string, { run?: unknown }>;
  const run: Record<string, AnyHandler> = {};
  for (const k of kinds) {
    const fn = k.builtin ? exports[k.queue] : jobs[k.name]?.run;
    if (typeof fn === 'function') run[k.name] = fn as AnyHandler;
    else if (runs.includes(k)) {
      throw new ConfigError(
        HANDLERS_VAR,
        path,
        `a module exporting a function "${k.builtin ? k.queue : `jobs.${k.name}.run`}${SIGNATURE[k.scope]}" (kind ${k.name})`,
      );
    } else {
      run[k.name] = async () => {
        throw new Error(`handler module exports no handler for kind ${k.name}`);
      };
    }
  }
  return run;
}

/**
 * listUsers is an iterable, a function returning one, or a function of `{ cursor, limit }` that
 * returns (a promise of) `{ users, nextCursor }`: which one shows in what the first call returns.
 */
function listingFrom(listUsers: unknown): (from: ListPosition, pageSize: number) => AsyncIterable<UserPage> {
  return async function* listFrom(from: ListPosition, pageSize: number): AsyncIterable<UserPage> {
    if (typeof listUsers !== 'function' && !isIterable(listUsers)) throw new Error('the handler module exports no listUsers');
    if (typeof listUsers !== 'function') return yield* skipTo(paginate(listUsers, pageSize), from);
    const ask = listUsers as (q: { cursor: string | undefined; limit: number }) => unknown;
    let r = await ask({ cursor: from.token, limit: pageSize });
    if (!isCursorPage(r)) return yield* skipTo(paginate(r as UserList, pageSize), from);
    let { skip } = from;
    let cursor = from.token;
    for (;;) {
      // Ids, or objects with an id as HTTP mode's pages have.
      const ids = r.users.map((u) => String(u !== null && typeof u === 'object' && 'id' in u ? (u as { id: unknown }).id : u));
      const next = r.nextCursor == null || r.nextCursor === '' ? undefined : String(r.nextCursor);
      if (next !== undefined && next === cursor) throw new Error('listUsers returned the same cursor twice');
      skip += ids.length;
      // Empty pages too: the fan-out counts them, so a listing that never ends is stopped.
      yield { users: ids, next: { skip, ...(next ? { token: next } : {}) } };
      if (next === undefined) return;
      cursor = next;
      r = await ask({ cursor, limit: pageSize });
      if (!isCursorPage(r)) throw new Error('listUsers({ cursor, limit }) returned no { users, nextCursor } page');
    }
  };
}

function isCursorPage(v: unknown): v is { users: unknown[]; nextCursor?: unknown } {
  return v != null && typeof v === 'object' && Array.isArray((v as { users?: unknown }).users);
}

function isIterable(v: unknown): v is UserList {
  return (
    v != null &&
    (typeof (v as AsyncIterable<string>)[Symbol.asyncIterator] === 'function' ||
      typeof (v as Iterable<string>)[Symbol.iterator] === 'function')
  );
}
