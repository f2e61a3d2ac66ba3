/**
 * HTTP mode: Spotter itself lists users and does the work; spotter-jobs only schedules it.
 * The contract (paths, body, signature, status semantics) is the spec's "Users and handlers" section.
 */
import { createHmac } from 'node:crypto';
import { z } from 'zod';
import { PermanentError, RetryAfterError } from '../jobs/errors.js';
import type { KindConfig } from '../jobs/kinds.js';
import { MAX_RESULT_BYTES } from '../jobs/registry.js';
import type { AnyHandler, HandlerContext, Handlers, Subject } from './types.js';
import type { ListPosition, UserPage } from './user-pages.js';

const USERS_TIMEOUT_MS = 30_000;

const usersPage = z.object({
  users: z.array(z.object({ id: z.union([z.string().min(1), z.number()]) })),
  nextCursor: z.string().min(1).nullable().optional(),
});

/**
 * `X-Spotter-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`. During a secret
 * rotation one `v1` is sent per configured secret, newest first, so Spotter may check either.
 */
export function sign(body: string, secrets: readonly string[], nowMs = Date.now()): string {
  const t = Math.floor(nowMs / 1000);
  const sigs = secrets.map((s) => `v1=${createHmac('sha256', s).update(`${t}.${body}`).digest('hex')}`);
  return [`t=${t}`, ...sigs].join(',');
}

/** Retry-After is either delta-seconds or an HTTP date. */
export function parseRetryAfter(value: string | null, nowMs = Date.now()): number | undefined {
  if (!value) return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

async function readCapped(res: Response): Promise<string> {
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_RESULT_BYTES) {
      await reader.cancel();
      return '';
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export interface HttpModeOptions {
  /** Spotter's base URL, without credentials. */
  url: string;
  /** Sent as the Authorization header when SPOTTER_URL carried a user and password. */
  authorization?: string;
  secrets: readonly string[];
  kinds: readonly KindConfig[];
}

/** A 2xx answer may chain work: `{"enqueue":[{"kind":"download","id":"t1","data":{…}}, {"kind":"enrichment","userId":"42"}]}`. */
const chained = z.object({
  enqueue: z
    .array(
      z.strictObject({
        kind: z.string().min(1),
        userId: z.string().optional(),
        id: z.string().optional(),
        data: z.unknown().optional(),
        delay: z.number().int().nonnegative().optional(),
      }),
    )
    .max(10_000),
});

export function httpHandlers(opts: HttpModeOptions): Handlers {
  /** POSTs one attempt of a `kind` job; `who` is what the body says the job is for. */
  const post = async (kind: KindConfig, who: Record<string, unknown>, ctx: HandlerContext): Promise<unknown> => {
    const body = JSON.stringify({
      jobId: ctx.jobId,
      kind: kind.queue,
      ...who,
      attempt: ctx.attempt,
      scheduledFor: new Date(ctx.scheduledFor).toISOString(),
      ...(ctx.parent ? { parent: ctx.parent } : {}),
    });
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'idempotency-key': ctx.jobId,
      'user-agent': 'spotter-jobs',
      ...(opts.authorization ? { authorization: opts.authorization } : {}),
    };
    if (opts.secrets.length > 0) headers['x-spotter-signature'] = sign(body, opts.secrets);
    const target = `${opts.url}/internal/jobs/${kind.queue}`;
    let res: Response;
    try {
      res = await fetch(target, {
        method: 'POST',
        headers,
        body,
        redirect: 'error',
        signal: AbortSignal.any([ctx.signal, AbortSignal.timeout(kind.timeoutMs)]),
      });
    } catch (err) {
      const e = err as Error;
      const why =
        e.name === 'TimeoutError' ? `timed out after ${kind.timeoutMs} ms` : ((e.cause as Error | undefined)?.message ?? e.message);
      throw new Error(`POST ${target}: ${why}`);
    }
    const text = await readCapped(res);
    if (res.ok) {
      if (!text) return null;
      let result: unknown;
      try {
        result = JSON.parse(text) as unknown;
      } catch {
        return null;
      }
      const chain = chained.safeParse(result);
      if (chain.success) {
        for (const { kind: next, delay, ...subject } of chain.data.enqueue) {
          await ctx.enqueue(next, subject as Subject, delay !== undefined ? { delay } : undefined);
        }
      }
      return result;
    }
    const detail = `POST ${target} answered ${res.status}${text ? `: ${text.slice(0, 200)}` : ''}`;
    if (res.status === 429 || res.status === 503) {
      const after = parseRetryAfter(res.headers.get('retry-after'));
      if (after !== undefined) throw new RetryAfterError(detail, after);
      throw new Error(detail);
    }
    if (res.status >= 400 && res.status < 500) throw new PermanentError(detail);
    throw new Error(detail);
  };

  const make = (kind: KindConfig): AnyHandler => {
    switch (kind.scope) {
      case 'user':
        return (userId: string, ctx: HandlerContext) => post(kind, { userId }, ctx);
      case 'global':
        return (ctx: HandlerContext) => post(kind, {}, ctx);
      case 'item':
        return (item: { id: string; data: unknown }, ctx: HandlerContext) => post(kind, { item }, ctx);
    }
  };

  async function* listUsers(pageSize: number, signal?: AbortSignal): AsyncIterable<string[]> {
    for await (const page of listFrom({ skip: 0 }, pageSize, signal)) if (page.users.length > 0) yield page.users;
  }

  /** One page of the listing. Never follows a redirect: the signature and the list must come from Spotter itself. */
  async function fetchUsers(cursor: string | undefined, pageSize: number, signal?: AbortSignal): Promise<z.infer<typeof usersPage>> {
    const u = new URL(`${opts.url}/internal/jobs/users`);
    if (cursor) u.searchParams.set('cursor', cursor);
    u.searchParams.set('limit', String(pageSize));
    const headers: Record<string, string> = {
      accept: 'application/json',
      'user-agent': 'spotter-jobs',
      ...(opts.authorization ? { authorization: opts.authorization } : {}),
    };
    // GETs carry no body; the signature covers the path and query instead, so Spotter can still
    // authenticate the caller.
    if (opts.secrets.length > 0) headers['x-spotter-signature'] = sign(`${u.pathname}${u.search}`, opts.secrets);
    const timeout = AbortSignal.timeout(USERS_TIMEOUT_MS);
    let res: Response;
    try {
      res = await fetch(u, { headers, redirect: 'error', signal: signal ? AbortSignal.any([signal, timeout]) : timeout });
    } catch (err) {
      const e = err as Error;
      const why =
        e.name === 'TimeoutError' ? `timed out after ${USERS_TIMEOUT_MS} ms` : ((e.cause as Error | undefined)?.message ?? e.message);
      throw new Error(`GET ${u.pathname}: ${why === 'unexpected redirect' ? 'answered a redirect, which is refused' : why}`);
    }
    if (!res.ok) throw new Error(`GET ${u.pathname} answered ${res.status}`);
    const parsed = usersPage.safeParse(await res.json());
    if (!parsed.success) throw new Error(`GET ${u.pathname} returned an unexpected body: ${parsed.error.issues[0]?.message}`);
    return parsed.data;
  }

  /**
   * Pages from a position on, empty pages included, so the fan-out sees every answer and can stop a
   * listing that never ends (listing-limits.ts).
   */
  async function* listFrom(from: ListPosition, pageSize: number, signal?: AbortSignal): AsyncIterable<UserPage> {
    let cursor: string | undefined = from.token;
    let skip = from.skip;
    do {
      const page = await fetchUsers(cursor, pageSize, signal);
      const ids = page.users.map((x) => String(x.id));
      // The fan-out stops any cursor seen before in a tick; this catches the plainest loop for other callers.
      if (page.nextCursor && page.nextCursor === cursor) throw new Error('GET /internal/jobs/users returned the same cursor twice');
      cursor = page.nextCursor ?? undefined;
      skip += ids.length;
      yield { users: ids, next: { skip, ...(cursor ? { token: cursor } : {}) } };
    } while (cursor);
  }

  return {
    mode: 'http',
    listUsers,
    listFrom,
    run: Object.fromEntries(opts.kinds.map((k) => [k.name, make(k)])),
  };
}
