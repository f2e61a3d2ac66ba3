import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { LineBatch } from '../src/telemetry/line-batch.js';
import { waitFor } from './helpers/wait-for.js';

const LOGGER = resolve(import.meta.dirname, '../dist/telemetry/logger.js');
const BATCH = resolve(import.meta.dirname, '../dist/telemetry/line-batch.js');

/** A child process that logs through the built logger to a pipe (JSON lines, as in a container). */
function child(script: string, read = true) {
  const proc = spawn(
    process.execPath,
    ['--input-type=module', '-e', `import { createLogger } from ${JSON.stringify(LOGGER)};\n${script}`],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  let err = '';
  if (read) proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const closed = new Promise<number | null>((r) => proc.once('close', r));
  return { proc, out: () => out, err: () => err, closed };
}

const line = (level: number, msg: string) => `{"level":${level},"time":"t","msg":"${msg}"}\n`;

describe('JSON log lines are written together', () => {
  const dir = mkdtempSync(join(tmpdir(), 'log-lines-'));
  afterEach(() => {
    vi.useRealTimers();
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('the lines of one turn of the event loop go out together at its end; a warning goes out at once, after the lines before it', () => {
    vi.useFakeTimers();
    const file = join(dir, 'lines.log');
    const fd = openSync(file, 'w');
    const lines = new LineBatch(fd);
    try {
      lines.write(line(30, 'a'));
      lines.write(line(30, 'b'));
      expect(readFileSync(file, 'utf8')).toBe('');
      vi.runOnlyPendingTimers();
      expect(readFileSync(file, 'utf8')).toBe(line(30, 'a') + line(30, 'b'));
      lines.write(line(30, 'c'));
      lines.write(line(40, 'warned'));
      expect(readFileSync(file, 'utf8')).toBe(line(30, 'a') + line(30, 'b') + line(30, 'c') + line(40, 'warned'));
      // 8 K characters waiting go out at once too.
      const big = line(30, 'x'.repeat(1000));
      for (let i = 0; i < 8; i++) lines.write(big);
      expect(readFileSync(file, 'utf8').endsWith(big.repeat(8))).toBe(true);
    } finally {
      lines.close();
      closeSync(fd);
    }
  });

  it('the lines logged before a process is killed outright are out, when it is killed in a later turn', async () => {
    const c = child(
      `const log = createLogger(); for (let i = 0; i < 50; i++) log.info({ i }, 'before'); setImmediate(() => setImmediate(() => process.kill(process.pid, 'SIGKILL')));`,
    );
    await c.closed;
    expect(
      c
        .out()
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as { i: number }).i),
    ).toEqual(Array.from({ length: 50 }, (_, i) => i));
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

  it('a logger whose stdout is not read keeps the process turning', async () => {
    const c = child(
      `const log = createLogger();
       let rounds = 0;
       const t = setInterval(() => {
         for (let k = 0; k < 500; k++) log.info({ k }, 'x'.repeat(200));
         if (++rounds < 40) return;
         clearInterval(t);
         process.stderr.write('turning\\n');
         process.exit(0);
       }, 2);`,
      false,
    );
    await waitFor('the child to log 20,000 lines nobody reads', () => c.err().includes('turning'), { timeoutMs: 15_000 }).finally(() =>
      c.proc.stdout.resume(),
    );
    expect(await c.closed).toBe(0);
  });

  it('a reader that stops reading does not stall the process; past the limit the oldest lines are dropped, and said so', async () => {
    // About 5 MB of lines to a pipe nobody reads for a while (it holds 64 KiB), 200 kB held at most:
    // the event loop must keep turning, and once the reader is back every line it gets is whole.
    const c = child(
      `const { LineBatch } = await import(${JSON.stringify(BATCH)});
       void process.stdout; // as batchedStdout does: the pipe answers EAGAIN when full
       const b = new LineBatch(1, { maxHeldBytes: 200_000 });
       let i = 0;
       const t = setInterval(() => {
         for (let k = 0; k < 500; k++, i++) b.write(JSON.stringify({ level: 30, i, pad: 'x'.repeat(200) }) + '\\n');
         if (i < 20_000) return;
         clearInterval(t);
         process.stderr.write('written\\n');
         setInterval(() => b.waiting() === 0 && process.exit(0), 10);
       }, 2);`,
      false,
    );
    await waitFor('the child to write every line', () => c.err().includes('written'), { timeoutMs: 20_000 });
    let out = '';
    c.proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
    expect(await c.closed).toBe(0);
    const lines = out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { i?: number; droppedBytes?: number; msg?: string });
    const notes = lines.filter((l) => l.droppedBytes !== undefined);
    expect(notes.length).toBeGreaterThanOrEqual(1);
    for (const n of notes) expect(n.droppedBytes).toBeGreaterThan(0);
    const seen = lines.flatMap((l) => (l.i === undefined ? [] : [l.i]));
    expect(seen[0]).toBe(0);
    expect(seen.at(-1)).toBe(19_999);
    for (let k = 1; k < seen.length; k++) expect(seen[k]).toBeGreaterThan(seen[k - 1] as number);
    expect(seen.length).toBeLessThan(20_000);
  });
});
