/** A raw HTTP request, so the Host header is whatever the client says and nothing is retried. */
import { request } from 'node:http';

/** How long a request may go unanswered before the test fails it: a server that waits for Redis hangs past it. */
export const NO_ANSWER_MS = 10_000;

export function raw(
  url: string,
  opts: { method?: string; host?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<{ status: number; body: string }> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: u.hostname,
        port: u.port,
        path: u.pathname + u.search,
        method: opts.method ?? 'GET',
        headers: { ...(opts.host ? { host: opts.host } : {}), ...opts.headers },
        timeout: NO_ANSWER_MS,
      },
      (res) => {
        let body = '';
        res.on('data', (d) => {
          body += d;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer from ${u.pathname} within ${NO_ANSWER_MS} ms`)));
    req.on('error', reject);
    req.end(opts.body);
  });
}
