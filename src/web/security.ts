/**
 * The web surface's guards: basic auth compared in constant time, refusal of cross-site writes
 * (including Bull Board's own), and headers that keep the pages from being framed or sniffed.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

const digest = (s: string) => createHash('sha256').update(s).digest();

/** Hashing first gives equal-length buffers, so neither the length nor the content leaks through timing. */
export function constantTimeEqual(a: string, b: string): boolean {
  return timingSafeEqual(digest(a), digest(b));
}

export function basicAuth(user: string, password: string | undefined) {
  return (req: Request, res: Response, next: NextFunction): void => {
    // No password: the server listens on loopback only (enforced at listen), so whoever can reach it
    // is on this machine already.
    if (password === undefined) {
      next();
      return;
    }
    const header = req.headers.authorization ?? '';
    const m = /^Basic ([A-Za-z0-9+/=]+)$/i.exec(header);
    if (m) {
      const decoded = Buffer.from(m[1] as string, 'base64').toString('utf8');
      const i = decoded.indexOf(':');
      const u = i >= 0 ? decoded.slice(0, i) : decoded;
      const p = i >= 0 ? decoded.slice(i + 1) : '';
      // Both comparisons always run, so a wrong user costs as long as a wrong password.
      const ok = constantTimeEqual(u, user) && constantTimeEqual(p, password);
      if (ok) {
        next();
        return;
      }
    }
    res.setHeader('WWW-Authenticate', 'Basic realm="spotter-jobs", charset="UTF-8"');
    res.status(401).type('text/plain').send('authentication required');
  };
}

/** 403 for state-changing requests that come from another site (CSRF), whatever their route. */
export function refuseCrossSite(req: Request, res: Response, next: NextFunction): void {
  if (SAFE_METHODS.has(req.method)) {
    next();
    return;
  }
  const site = req.headers['sec-fetch-site'];
  if (site === 'cross-site') {
    res.status(403).type('text/plain').send('cross-site request refused');
    return;
  }
  const origin = req.headers.origin;
  if (origin !== undefined) {
    let sameHost = false;
    try {
      sameHost = origin !== 'null' && new URL(origin).host === req.headers.host;
    } catch {
      sameHost = false;
    }
    if (!sameHost) {
      res.status(403).type('text/plain').send('cross-origin request refused');
      return;
    }
  }
  next();
}

/** In read-only mode no write reaches the board or the API, whatever the board's UI offers. */
export function refuseWrites(req: Request, res: Response, next: NextFunction): void {
  if (SAFE_METHODS.has(req.method)) {
    next();
    return;
  }
  res.status(403).type('text/plain').send('read-only (SPOTTER_JOBS_BOARD_READ_ONLY=true): no changes through the board or the API');
}

const LOOPBACK_HOST = /^(localhost|127(\.\d{1,3}){3}|\[::1\]|::1)$/i;

/** The host name of a Host header, without its port. */
function hostName(host: string | undefined): string {
  if (!host) return '';
  const h = host.trim().toLowerCase();
  if (h.startsWith('[')) return h.slice(0, h.indexOf(']') + 1);
  return h.replace(/:\d+$/, '');
}

/**
 * Without a password the server trusts that whoever reaches it is on this machine. A page elsewhere
 * can still reach it through DNS rebinding (evil.example resolving to 127.0.0.1), with a Host and an
 * Origin of its own; so in that mode only loopback Host names, and those the operator lists, are
 * answered (421 otherwise).
 */
export function loopbackHostsOnly(allowed: readonly string[]) {
  const extra = new Set(allowed.map((h) => h.toLowerCase()));
  return (req: Request, res: Response, next: NextFunction): void => {
    const name = hostName(req.headers.host);
    if (LOOPBACK_HOST.test(name) || extra.has(name)) {
      next();
      return;
    }
    res.status(421).type('text/plain').send('this server answers only loopback host names (see SPOTTER_JOBS_ALLOWED_HOSTS)');
  };
}

export function securityHeaders(_req: Request, res: Response, next: NextFunction): void {
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('Referrer-Policy', 'same-origin');
  next();
}
