/**
 * A loopback port where no Redis can be: held by a server that hangs up on every connection. A port
 * that is merely free can be taken by another test's Redis between the check and the use, and a
 * process meant to find Redis down would then find one.
 */
import { createServer, type Server } from 'node:net';

export interface ClosedPort {
  port: number;
  url: string;
  close(): Promise<void>;
}

export async function closedPort(): Promise<ClosedPort> {
  const srv: Server = createServer((sock) => sock.destroy());
  await new Promise<void>((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => resolve());
  });
  const addr = srv.address();
  if (!addr || typeof addr !== 'object') throw new Error('closedPort: the server has no port');
  return {
    port: addr.port,
    url: `redis://127.0.0.1:${addr.port}`,
    close: () => new Promise<void>((resolve) => srv.close(() => resolve())),
  };
}
