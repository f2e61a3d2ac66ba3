/**
 * HTTP mode: Spotter itself lists users and does the work; spotter-jobs only schedules it.
 * Spotter implements the other side of this contract (paths, body, signature, what each status
 * means), so every part of it is spelled out here and in the tests that pin it.
 */
import { createHmac } from 'node:crypto';
import { z } from 'zod';
import { MAX_TIMER_MS } from '../config/fields.js';
import type { KindConfig } from '../config/kind-config.js';
import { InvalidJobError, isPermanent, PermanentError, RetryAfterError } from '../jobs/errors.js';
import { MAX_RESULT_BYTES } from '../jobs/registry.js';
import { chainedWork, checkChained } from './http-chain.js';
import type { ListPosition, UserPage } from './list-position.js';
import type { AnyHandler, HandlerContext, Handlers } from './types.js';

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

/** The body, read up to MAX_RESULT_BYTES; `over` when there was more (the rest is not read). */
async function readCapped(res: Response): Promise<{ text: string; over: boolean }> {
  if (!res.body) return { text: '', over: false };
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_RESULT_BYTES) {
      await reader.cancel();
      return { text: Buffer.concat(chunks).toString('utf8'), over: true };
    }
    chunks.push(value);
  }
  return { text: Buffer.concat(chunks).toString('utf8'), over: false };
}

export interface HttpModeOptions {
  /** Spotter's base URL, without credentials. */
  url: string;
  /** Sent as the Authorization header when SPOTTER_URL carried a user and password. */
  authorization?: string;
  secrets: readonly string[];
  kinds: readonly KindConfig[];
  /** How long a request stays open past its kind's timeout, waiting for Spotter's answer (ms; default 0). */
  graceMs?: number;
}

/**
 * What cuts a POST: the job's signal (shutdown deadline, lost lock) and the kind's timeout plus the
 * grace. At the timeout itself the attempt fails and frees its slot, but the request stays open up
 * to the grace: while Spotter may still be working, the handler has not returned, so the user stays
 * held in its exclusivity group. (The timeout's reason is recognised by name: handlers sit below the
 * workers and do not import them.)
 */
function requestSignal(signal: AbortSignal, timeoutMs: number, graceMs: number): AbortSignal {
  const cut = new AbortController();
  const follow = () => {
    if ((signal.reason as Error | undefined)?.name !== 'JobTimeoutError') cut.abort(signal.reason);
  };
  if (signal.aborted) follow();
  else signal.addEventListener('abort', follow, { once: true });
  // Each is a valid timer, their sum may not be: Node would fire a timer beyond 2^31 - 1 ms at once.
  return AbortSignal.any([cut.signal, AbortSignal.timeout(Math.min(timeoutMs + graceMs, MAX_TIMER_MS))]);
}

/**
 * A 2xx answer: its JSON body is the result, and the jobs it chains are added. A body that cannot
 * be kept or read whole fails the job for good, as it may have asked for work that would be lost.
 */
async function answered(
  opts: HttpModeOptions,
  kind: KindConfig,
  what: string,
  res: Response,
  body: { text: string; over: boolean },
  ctx: HandlerContext,
): Promise<unknown> {
  const { text, over } = body;
  if (over)
    throw new PermanentError(`${what} with a body over ${MAX_RESULT_BYTES} bytes, the most a result (enqueue list included) may be`);
  if (!text) return null;
  let result: unknown;
  try {
    result = JSON.parse(text) as unknown;
  } catch (err) {
    // Plain text ("OK") is no result; a body that claims to be JSON and is not may have lost work.
    if (!/json/i.test(res.headers.get('content-type') ?? '') && !/^\s*[[{]/.test(text)) return null;
    throw new PermanentError(`${what} with a body that is not JSON (${(err as Error).message})`);
  }
  try {
    const chain = chainedWork(result);
    checkChained(kind, opts.kinds, ctx.depth, chain);
    for (const { kind: next, subject, delay } of chain) await ctx.enqueue(next, subject, delay !== undefined ? { delay } : undefined);
  } catch (err) {
    if (!isPermanent(err)) throw err;
    throw new InvalidJobError(`${what}, but ${(err as Error).message}`);
  }
  return result;
}

/** POSTs one attempt of a `kind` job; `who` is what the body says the job is for. */
async function post(opts: HttpModeOptions, kind: KindConfig, who: Record<string, unknown>, ctx: HandlerContext): Promise<unknown> {
  const graceMs = opts.graceMs ?? 0;
  const body = JSON.stringify({
    jobId: ctx.jobId,
    kind: kind.queue,
    ...who,
    attempt: ctx.attempt,
    scheduledFor: new Date(ctx.scheduledFor).toISOString(),
    ...(ctx.parent ? { parent: ctx.parent } : {}),
    // A user job's owner is its user, already in the body; another job's, when it has one.
    ...(ctx.owner && !('userId' in who) ? { owner: ctx.owner } : {}),
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
      signal: requestSignal(ctx.signal, kind.timeoutMs, graceMs),
    });
  } catch (err) {
    const e = err as Error;
    const why =
      e.name === 'TimeoutError'
        ? `timed out after ${kind.timeoutMs} ms${graceMs > 0 ? ` and a grace of ${graceMs} ms` : ''}`
        : ((e.cause as Error | undefined)?.message ?? e.message);
    throw new Error(`POST ${target}: ${why}`);
  }
  const read = await readCapped(res);
  if (res.ok) return answered(opts, kind, `POST ${target} answered ${res.status}`, res, read, ctx);
  const detail = `POST ${target} answered ${res.status}${read.text ? `: ${read.text.slice(0, 200)}` : ''}`;
  if (res.status === 429 || res.status === 503) {
    const after = parseRetryAfter(res.headers.get('retry-after'));
    if (after !== undefined) throw new RetryAfterError(detail, after);
    throw new Error(detail);
  }
  if (res.status >= 400 && res.status < 500) throw new PermanentError(detail);
  throw new Error(detail);
}

/** One page of the listing. Never follows a redirect: the signature and the list must come from Spotter itself. */
async function fetchUsers(
  opts: HttpModeOptions,
  cursor: string | undefined,
  pageSize: number,
  signal?: AbortSignal,
): Promise<z.infer<typeof usersPage>> {
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
async function* listUsersFrom(opts: HttpModeOptions, from: ListPosition, pageSize: number, signal?: AbortSignal): AsyncIterable<UserPage> {
  let cursor: string | undefined = from.token;
  let skip = from.skip;
  do {
    const page = await fetchUsers(opts, cursor, pageSize, signal);
    const ids = page.users.map((x) => String(x.id));
    // The fan-out stops any cursor seen before in a tick; this catches the plainest loop for other callers.
    if (page.nextCursor && page.nextCursor === cursor) throw new Error('GET /internal/jobs/users returned the same cursor twice');
    cursor = page.nextCursor ?? undefined;
    skip += ids.length;
    yield { users: ids, next: { skip, ...(cursor ? { token: cursor } : {}) } };
  } while (cursor);
}

export function httpHandlers(opts: HttpModeOptions): Handlers {
  const make = (kind: KindConfig): AnyHandler => {
    switch (kind.scope) {
      case 'user':
        return (userId: string, ctx: HandlerContext) => post(opts, kind, { userId }, ctx);
      case 'global':
        return (ctx: HandlerContext) => post(opts, kind, {}, ctx);
      case 'item':
        return (item: { id: string; data: unknown }, ctx: HandlerContext) => post(opts, kind, { item }, ctx);
    }
  };
  const listFrom = (from: ListPosition, pageSize: number, signal?: AbortSignal) => listUsersFrom(opts, from, pageSize, signal);
  async function* listUsers(pageSize: number, signal?: AbortSignal): AsyncIterable<string[]> {
    for await (const page of listFrom({ skip: 0 }, pageSize, signal)) if (page.users.length > 0) yield page.users;
  }
  return {
    mode: 'http',
    listUsers,
    listFrom,
    run: Object.fromEntries(opts.kinds.map((k) => [k.name, make(k)])),
  };
}
