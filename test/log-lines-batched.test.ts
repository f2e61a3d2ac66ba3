import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { batchedLines, FLUSH_MS } from '../src/telemetry/line-batch.js';
import { waitFor } from './helpers/wait-for.js';

const LOGGER = resolve(import.meta.dirname, '../dist/telemetry/logger.js');

/** A child process that logs through the built logger to a pipe (JSON lines, as in a container). */
function child(script: string) {
  const proc = spawn(
    process.execPath,
    ['--input-type=module', '-e', `import { createLogger } from ${JSON.stringify(LOGGER)};\n${script}`],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  let out = '';
  proc.stdout.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const closed = new Promise<number | null>((r) => proc.once('close', r));
  return { proc, out: () => out, closed };
}

describe('JSON log lines are written together', () => {
  const dir = mkdtempSync(join(tmpdir(), 'log-lines-'));
  afterEach(() => {
    vi.useRealTimers();
  });

  it('lines wait for the ones after them, at most FLUSH_MS, and keep their order', () => {
    vi.useFakeTimers();
    const file = join(dir, 'lines.log');
    const fd = openSync(file, 'w');
    try {
      const lines = batchedLines(fd);
      for (const l of ['a\n', 'b\n', 'c\n']) lines.write(l);
      expect(readFileSync(file, 'utf8')).toBe('');
      vi.advanceTimersByTime(FLUSH_MS);
      expect(readFileSync(file, 'utf8')).toBe('a\nb\nc\n');
      // A batch of 8 KiB goes out at once, with no timer.
      const big = `${'x'.repeat(1023)}\n`;
      for (let i = 0; i < 8; i++) lines.write(big);
      expect(readFileSync(file, 'utf8')).toBe(`a\nb\nc\n${big.repeat(8)}`);
    } finally {
      closeSync(fd);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a lone line goes out without waiting for another line or for the process to end', async () => {
    const c = child(`const log = createLogger(); log.info('alone'); setInterval(() => {}, 1000);`);
    try {
      await waitFor('the lone line', () => c.out().includes('"msg":"alone"'), { timeoutMs: 10_000 });
    } finally {
      c.proc.kill('SIGKILL');
      await c.closed;
    }
    expect(JSON.parse(c.out().trim()).msg).toBe('alone');
  });

  it('lines still waiting when the process exits are written before it ends, in order', async () => {
    const c = child(`const log = createLogger(); for (let i = 0; i < 5000; i++) log.info({ i }, 'line'); process.exit(0);`);
    expect(await c.closed).toBe(0);
    const numbers = c
      .out()
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { i: number }).i);
    expect(numbers).toEqual(Array.from({ length: 5000 }, (_, i) => i));
  });
});
