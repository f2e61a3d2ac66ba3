/**
 * Module mode: `SPOTTER_JOBS_HANDLERS` names a JS module exporting `listUsers` and one function per
 * queue. Checked once at load so a typo fails start-up instead of every job.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConfigError } from '../jobs/errors.js';
import { WORK_QUEUES, type WorkQueue } from '../jobs/registry.js';
import { type Handler, type Handlers, paginate } from './types.js';

type UserList = AsyncIterable<string> | Iterable<string>;

export async function moduleHandlers(path: string, roles: { needsUsers: boolean; queues: readonly WorkQueue[] }): Promise<Handlers> {
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(resolve(path)).href)) as Record<string, unknown>;
  } catch (err) {
    throw new ConfigError('SPOTTER_JOBS_HANDLERS', path, `a loadable JS module (${(err as Error).message})`);
  }
  const exports = (mod.default && typeof mod.default === 'object' ? { ...(mod.default as object), ...mod } : mod) as Record<
    string,
    unknown
  >;
  const listUsers = exports.listUsers;
  if (roles.needsUsers && typeof listUsers !== 'function' && !isIterable(listUsers)) {
    throw new ConfigError(
      'SPOTTER_JOBS_HANDLERS',
      path,
      'a module exporting listUsers (an async iterable of user ids, or a function returning one)',
    );
  }
  const run = {} as Record<WorkQueue, Handler>;
  for (const q of WORK_QUEUES) {
    const fn = exports[q];
    if (typeof fn === 'function') run[q] = fn as Handler;
    else if (roles.queues.includes(q)) {
      throw new ConfigError('SPOTTER_JOBS_HANDLERS', path, `a module exporting a function "${q}(userId, ctx)"`);
    } else {
      run[q] = async () => {
        throw new Error(`handler module exports no "${q}" function`);
      };
    }
  }
  return {
    mode: 'module',
    listUsers: (pageSize) => {
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
