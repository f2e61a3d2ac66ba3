/**
 * A private `redis-server` child process: what `npm start` uses when no Redis is configured or
 * running, and what the tests use when no Docker engine answers. AOF on, so a restart keeps the data.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { connect, createServer } from 'node:net';

export interface LocalRedisOptions {
  port: number;
  dir: string;
  host?: string;
  appendonly?: boolean;
  /** Extra `--name value` arguments. */
  args?: string[];
  /** A config file to start from (given first, as redis-server wants it), e.g. for Sentinel. */
  configFile?: string;
  sentinel?: boolean;
}

export class RedisBinaryMissingError extends Error {
  override name = 'RedisBinaryMissingError';
  constructor() {
    super(
      'No Redis is configured, nothing answers on 127.0.0.1:6379, and there is no redis-server binary to start one. ' +
        'Install Redis (Debian/Ubuntu: apt-get install -y redis-server; macOS: brew install redis) or set REDIS_URL.',
    );
  }
}

export function hasRedisBinary(): boolean {
  return spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
}

/** Asks the OS for a free TCP port on loopback. */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, host, () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

/** True when the server replies to PING at all; a NOAUTH error counts, since it proves Redis is up. */
function answersPing(host: string, port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect({ host, port });
    const done = (ok: boolean) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(timeoutMs, () => done(false));
    sock.once('error', () => done(false));
    sock.once('data', (d) => done(d[0] === 0x2b || d[0] === 0x2d));
    sock.once('connect', () => sock.write('PING\r\n'));
  });
}

export class LocalRedis {
  private child: ChildProcess | undefined;
  readonly url: string;
  constructor(readonly opts: LocalRedisOptions) {
    this.url = `redis://${opts.host ?? '127.0.0.1'}:${opts.port}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Starts the server and resolves once it answers PING. */
  async start(timeoutMs = 10_000): Promise<void> {
    if (!hasRedisBinary()) throw new RedisBinaryMissingError();
    mkdirSync(this.opts.dir, { recursive: true });
    const args = [
      ...(this.opts.configFile ? [this.opts.configFile] : []),
      ...(this.opts.sentinel ? ['--sentinel'] : []),
      '--port',
      String(this.opts.port),
      '--bind',
      this.opts.host ?? '127.0.0.1',
      '--dir',
      this.opts.dir,
      '--save',
      '',
      '--appendonly',
      this.opts.appendonly === false ? 'no' : 'yes',
      '--appendfsync',
      'everysec',
      '--maxmemory-policy',
      'noeviction',
      // As the compose file's Redis: job hashes stay in Redis' compact encoding.
      '--hash-max-listpack-value',
      '256',
      '--protected-mode',
      'yes',
      ...(this.opts.args ?? []),
    ];
    const child = spawn('redis-server', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    this.child = child;
    // A forced exit (second Ctrl-C) must not leave the server running behind us.
    const onExit = () => child.kill('SIGTERM');
    process.once('exit', onExit);
    child.once('exit', () => process.removeListener('exit', onExit));
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`redis-server exited at start (${child.exitCode}): ${stderr.trim()}`);
      if (await answersPing(this.opts.host ?? '127.0.0.1', this.opts.port)) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    child.kill('SIGKILL');
    throw new Error(`redis-server on port ${this.opts.port} did not answer within ${timeoutMs} ms`);
  }

  /** Sends `signal` and waits for the process to exit. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill(signal);
    });
  }

  /** SIGSTOP / SIGCONT: Redis stops answering but keeps its connections open. */
  pause(): void {
    this.child?.kill('SIGSTOP');
  }
  resume(): void {
    this.child?.kill('SIGCONT');
  }
}
