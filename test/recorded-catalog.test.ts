/**
 * `trigger` and `dlq` from any shell: without SPOTTER_JOBS_HANDLERS (or SPOTTER_JOBS_CATALOG) they use
 * the catalog the producers recorded in Redis, settings included; a caller whose own catalog differs
 * from the recorded one is warned, naming the difference.
 */
import { describe, expect, it } from 'vitest';
import { FIXTURE } from './helpers/ledger.js';
import { useProcessScenes } from './helpers/process-scene.js';
import { runCli } from './helpers/spawn-cli.js';

const CATALOG = new URL('./fixtures/catalog.mjs', import.meta.url).pathname;

const scene = useProcessScenes();

describe('a command run where the handler module is not named', () => {
  it('uses the recorded catalog with its settings, and warns a caller whose catalog differs', async () => {
    const s = scene({
      SPOTTER_JOBS_HANDLERS: CATALOG,
      FIXTURE_CLEANUP_SCHEDULE: '1h',
      SPOTTER_JOBS_CLEANUP_ATTEMPTS: '7',
      SPOTTER_JOBS_SYNC_ENABLED: 'false',
      SPOTTER_METADATA_ENABLED: 'false',
      SPOTTER_JOBS_WRITEBACK_ENABLED: 'false',
      SPOTTER_JOBS_TAG_FAIR: 'false',
    });
    const producer = s.start(['producer']);
    await producer.waitForLog((l) => l.msg === 'producer started', 'producer started');
    // A shell with only the connection: no module, no per-kind variables.
    const bare = { REDIS_URL: s.env.REDIS_URL as string, SPOTTER_JOBS_PREFIX: s.prefix };

    const t = await runCli(['trigger', 'cleanup', '--json'], bare);
    expect(t.code, t.stderr).toBe(0);
    expect(t.stderr).toBe('');
    const { jobId } = JSON.parse(t.stdout) as { jobId: string };
    const opts = JSON.parse((await s.conn.hget(`${s.prefix}:cleanup:${jobId}`, 'opts')) as string) as { attempts: number };
    expect(opts.attempts, "the producers' setting, not the default").toBe(7);

    // The item kind's JSON Schema travels with the record.
    const bad = await runCli(['trigger', 'tag', '--item', 'x1', '--data', '{"from":7}'], bare);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/data of item x1 does not match the schema: from:/);

    const dlq = await runCli(['dlq', 'list', '--queue', 'cleanup'], bare);
    expect(dlq.code, dlq.stderr).toBe(0);
    expect(dlq.stdout.trim()).toBe('(none)');

    // A caller with another catalog (Spotter's kinds only) uses its own, and is told how it differs.
    const other = await runCli(['trigger', 'sync', '--user', 'u1'], { ...bare, SPOTTER_JOBS_HANDLERS: FIXTURE });
    expect(other.code, other.stderr).toBe(0);
    expect(other.stderr).toMatch(
      /warning: this environment's catalog differs from the one the producers recorded in Redis at \S+ \(only in Redis: cleanup, tag; sync enabled true here, false in Redis.*\); using this environment's/,
    );

    // The same catalog, but the services run tag without fair admission and this shell does not say so.
    const { SPOTTER_JOBS_TAG_FAIR: _, ...unsaid } = s.env;
    const fairHere = await runCli(['trigger', 'tag', '--item', 'x2', '--data', '{"from":"x"}'], unsaid);
    expect(fairHere.code, fairHere.stderr).toBe(0);
    expect(fairHere.stderr).toMatch(/tag fair on here, off in Redis/);
  });
});
