/** A tick that fails before its fan-out is logged and recorded as failed, where `status` reads the last tick. */
import { describe, expect, it } from 'vitest';
import { TickConsumer } from '../src/producers/tick-consumer.js';
import { lastTick } from '../src/schedules/tick-record.js';
import { testHandlers } from './helpers/handlers.js';
import { capturingLogger } from './helpers/harness.js';
import { useHarnesses } from './helpers/in-process.js';

const { h } = useHarnesses();

describe('a tick that fails before its fan-out', () => {
  it('is logged and recorded', async () => {
    const { log, lines } = capturingLogger('info');
    const x = await h({}, { log });
    const ticks = new TickConsumer({ ...x, handlers: testHandlers([]) });
    const job = await x.queues.schedules().add('tick', { schedule: 'nope' }, { jobId: 'manual_nope_1' });
    await expect(ticks.process(job)).rejects.toThrow(/"nope", which is no user or global kind/);
    expect(await lastTick(x.conn, x.prefix, 'nope')).toMatchObject({ result: 'failed', tickId: 'manual_nope_1' });
    expect(lines.find((l) => l.msg === 'tick nope failed')).toBeTruthy();
  });
});
