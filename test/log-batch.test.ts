import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { BATCH_MS, batchedLines } from '../src/telemetry/line-batch.js';

const LOGGER = resolve(import.meta.dirname, '../dist/telemetry/logger.js');

describe('log lines under load', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('a line that finds the destination idle goes out at once; the lines right after it go out together', () => {
    vi.useFakeTimers();
    const writes: string[] = [];
    const lines = batchedLines({ write: (s: string) => writes.push(s) > 0 }, 1);
    lines.write('a\n');
    expect(writes).toEqual(['a\n']);
    lines.write('b\n');
    lines.write('c\n');
    expect(writes).toEqual(['a\n']);
    vi.advanceTimersByTime(BATCH_MS);
    expect(writes).toEqual(['a\n', 'b\nc\n']);
    // Idle again: the next line is not held.
    vi.advanceTimersByTime(BATCH_MS);
    lines.write('d\n');
    expect(writes).toEqual(['a\n', 'b\nc\n', 'd\n']);
  });

  it('lines still held when the process exits are written before it ends', async () => {
    const script = `import { createLogger } from ${JSON.stringify(LOGGER)};
      const log = createLogger();
      for (let i = 0; i < 500; i++) log.info({ i }, 'line');
      process.exit(0);`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    const code = await new Promise<number | null>((r) => child.once('close', r));
    expect(code).toBe(0);
    const numbers = out
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { i: number }).i);
    expect(numbers).toEqual(Array.from({ length: 500 }, (_, i) => i));
  });
});
