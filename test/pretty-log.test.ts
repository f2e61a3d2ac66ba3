/** At a terminal, one event is one line: its fields sit on the line of its message. */
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, prettyStream } from '../src/telemetry/logger.js';

describe('the terminal log', () => {
  it('writes an event with nested fields and an error as one line, the details after the message', () => {
    let out = '';
    const destination = new Writable({
      write(chunk, _enc, cb) {
        out += chunk.toString();
        cb();
      },
    });
    const log = createLogger({ destination: prettyStream({ colorize: false, destination }) });
    log.child({ role: 'worker' }).info({ queue: 'sync', jobId: 'sync:u1:1', userId: 'u1', attempt: { n: 1, of: 5 } }, 'job started');
    log.error({ queue: 'sync', err: 'token expired', jobIds: ['a', 'b'] }, 'job failed');
    const lines = out.split('\n').filter(Boolean);
    expect(lines, out).toHaveLength(2);
    expect(lines[0]).toMatch(/INFO.*job started.*"queue":"sync".*"jobId":"sync:u1:1".*"userId":"u1"/);
    expect(lines[1]).toMatch(/ERROR.*job failed.*"err":"token expired"/);
  });
});
