/**
 * HTTP mode: Spotter itself lists users and does the work; spotter-jobs only schedules it.
 * The contract (paths, body, signature, status semantics) is the spec's "Users and handlers" section.
 */
import { createHmac } from 'node:crypto';
import { z } from 'zod';
import { PermanentError, RetryAfterError } from '../jobs/errors.js';
import { WORK_QUEUES, type WorkQueue } from '../jobs/registry.js';
import type { Handler, HandlerContext, Handlers } from './types.js';

/** A 2xx body larger than this is not kept as the job's return value. */
export const MAX_RESULT_BYTES = 16 * 1024;
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
  url: string;
  secrets: readonly string[];
  timeoutMs: Record<WorkQueue, number>;
}

export function httpHandlers(opts: HttpModeOptions): Handlers {
  const make =
    (queue: WorkQueue): Handler =>
    async (userId: string, ctx: HandlerContext) => {
      const body = JSON.stringify({
        jobId: ctx.jobId,
        kind: queue,
        userId,
        attempt: ctx.attempt,
        scheduledFor: new Date(ctx.scheduledFor).toISOString(),
      });
      const headers: Record<string, string> = {
        'content-type': 'application/json',
        'idempotency-key': ctx.jobId,
        'user-agent': 'spotter-jobs',
      };
      if (opts.secrets.length > 0) headers['x-spotter-signature'] = sign(body, opts.secrets);
      const target = `${opts.url}/internal/jobs/${queue}`;
      let res: Response;
      try {
        res = await fetch(target, {
          method: 'POST',
          headers,
          body,
          redirect: 'error',
          signal: AbortSignal.any([ctx.signal, AbortSignal.timeout(opts.timeoutMs[queue])]),
        });
      } catch (err) {
        const e = err as Error;
        const why =
          e.name === 'TimeoutError'
            ? `timed out after ${opts.timeoutMs[queue]} ms`
            : ((e.cause as Error | undefined)?.message ?? e.message);
        throw new Error(`POST ${target}: ${why}`);
      }
      const text = await readCapped(res);
      if (res.ok) {
        if (!text) return null;
        try {
          return JSON.parse(text) as unknown;
        } catch {
          return null;
        }
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

  async function* listUsers(pageSize: number, signal?: AbortSignal): AsyncIterable<string[]> {
    let cursor: string | null | undefined;
    do {
      const u = new URL(`${opts.url}/internal/jobs/users`);
      if (cursor) u.searchParams.set('cursor', cursor);
      u.searchParams.set('limit', String(pageSize));
      const headers: Record<string, string> = { accept: 'application/json', 'user-agent': 'spotter-jobs' };
      // GETs carry no body; the signature covers the path and query instead, so Spotter can still
      // authenticate the caller.
      if (opts.secrets.length > 0) headers['x-spotter-signature'] = sign(`${u.pathname}${u.search}`, opts.secrets);
      const timeout = AbortSignal.timeout(USERS_TIMEOUT_MS);
      const res = await fetch(u, { headers, signal: signal ? AbortSignal.any([signal, timeout]) : timeout });
      if (!res.ok) throw new Error(`GET ${u.pathname} answered ${res.status}`);
      const parsed = usersPage.safeParse(await res.json());
      if (!parsed.success) throw new Error(`GET ${u.pathname} returned an unexpected body: ${parsed.error.issues[0]?.message}`);
      const ids = parsed.data.users.map((x) => String(x.id));
      if (ids.length > 0) yield ids;
      if (parsed.data.nextCursor && parsed.data.nextCursor === cursor) throw new Error(`GET ${u.pathname} returned the same cursor twice`);
      cursor = parsed.data.nextCursor;
    } while (cursor);
  }

  return {
    mode: 'http',
    listUsers,
    run: Object.fromEntries(WORK_QUEUES.map((q) => [q, make(q)])) as Record<WorkQueue, Handler>,
  };
}
