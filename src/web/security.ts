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

/** In read-only mode no write reaches the board, whatever its UI offers. */
export function refuseWrites(req: Request, res: Response, next: NextFunction): void {
  if (SAFE_METHODS.has(req.method)) {
    next();
    return;
  }
  res.status(403).type('text/plain').send('the board is read-only (SPOTTER_JOBS_BOARD_READ_ONLY=true)');
}

export function securityHeaders(_req: Request, res: Response, next: NextFunction): void {
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('Referrer-Policy', 'same-origin');
  next();
}
