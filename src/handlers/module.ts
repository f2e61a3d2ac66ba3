/**
 * Module mode: `SPOTTER_JOBS_HANDLERS` names a JS module exporting `listUsers`, one function per
 * Spotter kind (`sync`, `enrichment`, `writeback`, by queue name) and optionally more kinds as
 * `jobs`, each with its `run`. Checked once at load so a typo fails start-up instead of every job.
 */
import { HANDLERS_VAR, importHandlerModule } from '../jobs/catalog-source.js';
import { ConfigError } from '../jobs/errors.js';
import type { KindConfig } from '../jobs/kinds.js';
import { type AnyHandler, type Handlers, paginate } from './types.js';

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
    throw new ConfigError(HANDLERS_VAR, path, 'a module exporting listUsers (an async iterable of user ids, or a function returning one)');
  }
  const jobs = (exports.jobs ?? {}) as Record<string, { run?: unknown }>;
  const run: Record<string, AnyHandler> = {};
  for (const k of kinds) {
    const fn = k.builtin ? exports[k.queue] : jobs[k.name]?.run;
    if (typeof fn === 'function') run[k.name] = fn as AnyHandler;
    else if (roles.kinds.includes(k)) {
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
  return {
    mode: 'module',
    listUsers: (pageSize) => {
      if (typeof listUsers !== 'function' && !isIterable(listUsers)) throw new Error('the handler module exports no listUsers');
      const src = typeof listUsers === 'function' ? (listUsers as () => UserList)() : (listUsers as UserList);
      return paginate(src, pageSize);
    },
    run,
  };
}

function isIterable(v: unknown): v is UserList {
  return (
    v != null &&
    (typeof (v as AsyncIterable<string>)[Symbol.asyncIterator] === 'function' ||
      typeof (v as Iterable<string>)[Symbol.iterator] === 'function')
  );
}
