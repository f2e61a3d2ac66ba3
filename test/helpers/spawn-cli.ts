/** Runs `spotter-jobs` as a user would: the built CLI in a child process, with its output collected. */
import { type ChildProcess, spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { waitFor } from './wait-for.js';

export const CLI = resolve(import.meta.dirname, '../../dist/cli.js');

export interface LogLine {
  level: number;
  msg: string;
  [k: string]: unknown;
}

export class CliProcess {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(args: string[], env: Record<string, string>) {
    this.child = spawn(process.execPath, [CLI, ...args], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout?.on('data', (d: Buffer) => {
      this.stdout += d.toString();
    });
    this.child.stderr?.on('data', (d: Buffer) => {
      this.stderr += d.toString();
    });
    this.exited = new Promise((res) => this.child.on('exit', (code, signal) => res({ code, signal })));
  }

  get pid(): number {
    return this.child.pid as number;
  }

  logs(): LogLine[] {
    return this.stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as LogLine);
  }

  waitForLog(pred: (l: LogLine) => boolean, what: string, timeoutMs = 20_000): Promise<LogLine> {
    // The output is read when the wait fails, not when it starts, so the message shows what the process said.
    return waitFor(
      () => `log line: ${what}\n--- stdout:\n${this.stdout.slice(-2000)}\n--- stderr:\n${this.stderr.slice(-2000)}`,
      () => this.logs().find(pred),
      {
        timeoutMs,
      },
    );
  }

  kill(signal: NodeJS.Signals = 'SIGTERM'): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
  }

  async stop(): Promise<void> {
    this.kill('SIGKILL');
    await this.exited;
  }
}

export function startCli(args: string[], env: Record<string, string>): CliProcess {
  return new CliProcess(args, env);
}

/** Runs a short command to its end. */
export async function runCli(
  args: string[],
  env: Record<string, string>,
  timeoutMs = 30_000,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const p = new CliProcess(args, env);
  const timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
  const { code } = await p.exited;
  clearTimeout(timer);
  return { code, stdout: p.stdout, stderr: p.stderr };
}
