/** `spotter-jobs schedule …` and the API's /api/subject-schedules, run as a user runs them. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { deletePrefix, newPrefix, testEnv, testRedis } from './helpers/redis.js';
import { runCli } from './helpers/spawn-cli.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function env(): Record<string, string> {
  const prefix = newPrefix();
  const e = testEnv(prefix);
  cleanups.push(async () => {
    const conn = testRedis(e.REDIS_URL);
    try {
      await deletePrefix(conn, prefix);
    } finally {
      conn.disconnect();
    }
  });
  return e;
}

async function cli(args: string[], e: Record<string, string>) {
  const r = await runCli(args, e);
  return { ...r, json: () => JSON.parse(r.stdout) as Record<string, unknown> };
}

describe('spotter-jobs schedule', () => {
  it('adds a schedule from English, echoes the trigger as understood and the next three runs', async () => {
    const e = env();
    const r = await cli(
      ['schedule', 'add', 'sync', '--user', 'ann', '--rule', 'every other tuesday at 9:34am', '--tz', 'Europe/Berlin', '--json'],
      e,
    );
    expect(r.code, r.stderr).toBe(0);
    const out = r.json();
    expect(out.rule).toBe('FREQ=WEEKLY;INTERVAL=2;BYDAY=TU;BYHOUR=9;BYMINUTE=34;BYSECOND=0');
    expect(out.next).toHaveLength(3);
    const [a, b] = (out.next as string[]).map(Date.parse);
    expect((b as number) - (a as number)).toBe(14 * 24 * 3_600_000);
    const text = await cli(['schedule', 'add', 'sync', '--user', 'bob', '--rule', 'every weekday at 7:30'], e);
    expect(text.stdout).toMatch(/understood as: cron 30 7 \* \* 1-5 \(time zone UTC\)/);
    expect(text.stdout).toMatch(/next runs: \S+, \S+, \S+/);
  });

  it('refuses a trigger it does not understand, naming the part, with exit code 2', async () => {
    const r = await cli(['schedule', 'add', 'sync', '--user', 'ann', '--rule', 'every blue moon'], env());
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/"blue/);
  });

  it('lists, shows, pauses, resumes and removes; user <id> shows the schedules', async () => {
    const e = env();
    const { id } = (
      await cli(['schedule', 'add', 'sync', '--user', 'ann', '--at', '2099-01-31T04:00:00Z', '--name', 'once', '--json'], e)
    ).json() as { id: string };
    const list = (await cli(['schedule', 'list', '--user', 'ann', '--json'], e)).json() as {
      schedules: Array<{ id: string; rule: string }>;
    };
    expect(list.schedules.map((s) => [s.id, s.rule])).toEqual([[id, 'at 2099-01-31T04:00:00Z']]);
    expect((await cli(['schedule', 'pause', id, '--json'], e)).json()).toMatchObject({ state: 'paused', next: null });
    expect((await cli(['schedule', 'resume', id, '--json'], e)).json()).toMatchObject({
      state: 'active',
      next: '2099-01-31T04:00:00.000Z',
    });
    expect((await cli(['schedule', 'show', id], e)).stdout).toMatch(/sync\s+user ann\s+once/);
    expect((await cli(['user', 'ann'], e)).stdout).toMatch(/Schedules[\s\S]*at 2099-01-31T04:00:00Z/);
    expect((await cli(['schedule', 'remove', id], e)).stdout).toBe(`schedule ${id} removed\n`);
    const gone = await cli(['schedule', 'show', id], e);
    expect(gone.code).toBe(2);
    expect(gone.stderr).toContain(`no schedule ${id}`);
  });

  it('imports a JSON Lines file, reporting each refused line by number', async () => {
    const e = env();
    const dir = mkdtempSync(join(tmpdir(), 'sj-import-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'schedules.jsonl');
    const lines = Array.from({ length: 1500 }, (_, i) => JSON.stringify({ kind: 'sync', user: `u${i}`, rule: 'every day at 08:00' }));
    lines.splice(700, 0, '{"kind":"sync","user":"x","rule":"whenever"}', 'not json');
    writeFileSync(file, `${lines.join('\n')}\n`);
    const r = await cli(['schedule', 'import', file, '--json'], e);
    expect(r.code).toBe(2);
    const out = r.json() as { added: number; refused: Array<{ line: number; error: string }> };
    expect(out.added).toBe(1500);
    expect(out.refused.map((x) => x.line)).toEqual([701, 702]);
    expect(out.refused[0]?.error).toMatch(/whenever/);
    expect(out.refused[1]?.error).toMatch(/^not JSON: /);
    const page = (await cli(['schedule', 'list', '--kind', 'sync', '--limit', '10', '--json'], e)).json() as {
      schedules: unknown[];
      cursor?: string;
    };
    expect(page.schedules.length).toBeGreaterThan(0);
    expect(page.cursor).toBeDefined();
    for (const bad of ['0', 'abc', '1001']) {
      const r = await cli(['schedule', 'list', '--kind', 'sync', '--limit', bad], e);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`--limit takes a whole number from 1 to 1000, not "${bad}"`);
    }
  });
});
