import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { sleep } from './clock.js';

/**
 * Starts a worker process. Its log goes to /dev/null, as a container's stdout costs the writer but not
 * the benchmark; readiness is read from /readyz (spotter-jobs) or a "ready" line (plain BullMQ).
 */
export function startProcess(
  args: string[],
  env: NodeJS.ProcessEnv,
  readyzPort?: number,
): { child: ChildProcess; ready: Promise<void>; exited: Promise<void> } {
  const devNull = openSync('/dev/null', 'w');
  const child = spawn(process.execPath, args, {
    env: { ...process.env, ...env },
    stdio: ['ignore', readyzPort ? devNull : 'pipe', 'ignore'],
  });
  closeSync(devNull);
  const ready = readyzPort
    ? (async () => {
        for (;;) {
          const ok = await fetch(`http://127.0.0.1:${readyzPort}/readyz`).then(
            (r) => r.ok,
            () => false,
          );
          if (ok) return;
          await sleep(50);
        }
      })()
    : new Promise<void>((res) => {
        child.stdout?.once('data', () => {
          child.stdout?.resume();
          res();
        });
      });
  const exited = new Promise<void>((res) => child.once('exit', () => res()));
  return { child, ready, exited };
}
