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

type Started = ReturnType<typeof startProcess>;

/** Waits until every process is ready (stopping them all, and failing, if one exits first); returns their stop. */
export async function allReady(procs: Started[]): Promise<() => Promise<void>> {
  const stop = async () => {
    for (const x of procs) x.child.kill('SIGTERM');
    await Promise.all(procs.map((x) => x.exited));
  };
  const ready = Promise.all(procs.map((x) => x.ready)).then(() => undefined);
  const dead = await Promise.race([ready, ...procs.map((x) => x.exited.then(() => x))]);
  if (dead) {
    await stop();
    throw new Error(`${dead.child.spawnargs.slice(1).join(' ')} exited before it was ready`);
  }
  return stop;
}
