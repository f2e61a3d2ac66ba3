/** At start-up the producer says, for every scheduled kind, when it runs next. */
import { describe, expect, it } from 'vitest';
import { useProcessScenes } from './helpers/process-scene.js';
import { runCli } from './helpers/spawn-cli.js';

const scene = useProcessScenes();

describe('the producer at start-up', () => {
  it('logs one line per scheduled kind with its next run, as the schedulers in Redis have it', async () => {
    const s = scene({ SPOTTER_METADATA_ENABLED: 'false' });
    const p = s.start(['producer']);
    const lineOf = (kind: string) => p.waitForLog((l) => l.schedule === kind && 'nextRun' in l, `next run of ${kind}`);
    const [sync, enrichment, writeBack] = await Promise.all([lineOf('sync'), lineOf('enrichment'), lineOf('write-back')]);
    expect(enrichment.nextRun).toBeNull();
    expect(enrichment.msg).toBe('enrichment has no next run (disabled)');
    const status = await runCli(['status', '--json'], s.env);
    expect(status.code, status.stderr).toBe(0);
    const rows = JSON.parse(status.stdout).schedules as Array<{ name: string; nextRun: number | null }>;
    const wb = rows.find((r) => r.name === 'write-back');
    expect(writeBack.nextRun).toBe(new Date(wb?.nextRun as number).toISOString());
    expect(writeBack.msg).toBe(`write-back next runs at ${writeBack.nextRun}`);
    expect(sync.msg).toMatch(/^sync next runs at \d{4}-\d\d-\d\dT/);
    expect(p.logs().filter((l) => / next runs at | has no next run /.test(l.msg))).toHaveLength(3);
  });
});
