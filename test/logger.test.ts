import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../src/telemetry/logger.js';
import { waitFor } from './helpers/wait-for.js';

const capture = () => {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      cb();
    },
  });
  return { lines, destination };
};

describe('log line time', () => {
  it('is the ISO time the line was written, also when lines share a millisecond and after the clock moved on', async () => {
    const { lines, destination } = capture();
    const log = createLogger({ destination });
    const before = Date.now();
    for (let i = 0; i < 50; i++) log.info({ i }, 'burst');
    const mid = Date.now();
    await waitFor('the clock to move on', () => Date.now() > mid);
    log.info('later');
    const after = Date.now();
    await waitFor('all lines', () => lines.length === 51);
    const times = lines.map((l) => JSON.parse(l).time as string);
    for (const t of times) expect(t).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    const ms = times.map((t) => Date.parse(t));
    for (const m of ms.slice(0, 50)) {
      expect(m).toBeGreaterThanOrEqual(before);
      expect(m).toBeLessThanOrEqual(mid);
    }
    expect(ms[50]).toBeGreaterThan(mid);
    expect(ms[50]).toBeLessThanOrEqual(after);
  });
});
