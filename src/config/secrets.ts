/** Secret redaction: what a log line or an error must never show of the configuration. */
import type { Config } from './config.js';

/** URL-valued variables whose password must never be echoed, even in an error. */
export function masked(name: string, value: string | undefined): string | undefined {
  if (value === undefined || (name !== 'REDIS_URL' && name !== 'SPOTTER_URL')) return value;
  try {
    return new URL(value).password ? redactUrl(value) : value;
  } catch {
    // Not a URL at all: nothing to find a password in, but it may still hold one; say only its shape.
    return value.includes('@') ? '<a value with credentials>' : value;
  }
}

/** The secrets a log line must never show, for the logger's redaction. */
export function secretsOf(config: Config): string[] {
  const out: string[] = [];
  if (config.handlers.kind === 'http') {
    out.push(...config.handlers.secrets);
    if (config.handlers.authorization) {
      const pair = Buffer.from(config.handlers.authorization.slice('Basic '.length), 'base64').toString('utf8');
      out.push(pair.slice(pair.indexOf(':') + 1), config.handlers.authorization.slice('Basic '.length));
    }
  }
  if (config.http.boardPassword) out.push(config.http.boardPassword);
  try {
    const u = new URL(config.redisUrl);
    if (u.password) out.push(decodeURIComponent(u.password));
  } catch {
    /* validated already */
  }
  return out.filter((s) => s.length >= 4);
}

/** REDIS_URL with its password masked, for messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '<invalid url>';
  }
}
