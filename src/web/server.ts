/** Binds an app to host:port, refusing to expose an unauthenticated board beyond loopback. */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';
import { ConfigError } from '../config/errors.js';

export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h);
}

/** Throws ConfigError (exit 78) when the board would listen beyond loopback without a password. */
export function assertSafeBinding(host: string, password: string | undefined): void {
  if (!isLoopback(host) && password === undefined) {
    throw new ConfigError(
      'SPOTTER_JOBS_HTTP_HOST',
      host,
      'a loopback address (127.0.0.1, ::1 or localhost) while SPOTTER_JOBS_BOARD_PASSWORD is unset; set a board password to listen elsewhere',
    );
  }
}

export interface Listening {
  server: Server;
  url: string;
  close(): Promise<void>;
}

export function listen(app: Express, host: string, port: number): Promise<Listening> {
  return new Promise((resolve, reject) => {
    const server = app.listen(port, host);
    server.once('error', reject);
    server.once('listening', () => {
      const addr = server.address() as AddressInfo;
      const shown = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
      let closing: Promise<void> | undefined;
      resolve({
        server,
        url: `http://${shown}:${addr.port}`,
        close: () => {
          closing ??= new Promise<void>((r) => {
            server.close(() => r());
            // Keep-alive connections from browsers and scrapers would hold close() open.
            server.closeIdleConnections();
          });
          return closing;
        },
      });
    });
  });
}
