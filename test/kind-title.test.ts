/**
 * A kind's title, the name a person reads ("Monthly Credit Top-Up"): checked when the catalog loads,
 * and shown beside the name on the board, the status page, `status`, the API and the kind's log lines.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../src/config/errors.js';
import { loadSettings } from '../src/config/load.js';
import { freePort } from '../src/redis/local.js';
import { useProcessScenes } from './helpers/process-scene.js';
import { runCli } from './helpers/spawn-cli.js';
import { waitFor } from './helpers/wait-for.js';

const dir = mkdtempSync(join(tmpdir(), 'spotter-jobs-title-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const scene = useProcessScenes();
const FIXTURE_CATALOG = resolve(import.meta.dirname, 'fixtures/catalog.mjs');
const TITLE = 'Monthly Credit Top-Up';

/** The fixture catalog, with `title` set on its global kind `cleanup`. */
function titledModule(title: unknown): string {
  const p = join(dir, `m${Math.random().toString(36).slice(2)}.mjs`);
  writeFileSync(
    p,
    `export * from ${JSON.stringify(FIXTURE_CATALOG)};
import { jobs as base } from ${JSON.stringify(FIXTURE_CATALOG)};
export const jobs = { ...base, cleanup: { ...base.cleanup, title: ${JSON.stringify(title)} } };`,
  );
  return p;
}

describe('a kind title', () => {
  it.each([
    ['a number', 42],
    ['an empty string', '  '],
    ['more than 80 characters', 'x'.repeat(81)],
    ['a line break', 'Monthly\nTop-Up'],
  ])('is refused when it is %s, naming the kind and the field', async (_what, title) => {
    const err = await loadSettings({ SPOTTER_JOBS_HANDLERS: titledModule(title) }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).message).toMatch(/kind "cleanup" field "title".*1 to 80 characters/);
  });

  it('is shown beside the name in status, the API, the status page, the board and the logs', async () => {
    const port = await freePort();
    const s = scene({ SPOTTER_JOBS_HANDLERS: titledModule(`  ${TITLE} `), SPOTTER_JOBS_HTTP_PORT: String(port) });
    const p = s.start(['all']);
    const job = await p.waitForLog((l) => l.queue === 'cleanup' && l.msg === 'job completed', 'a cleanup job completed');
    expect(job.title).toBe(TITLE);
    const tick = await p.waitForLog((l) => l.schedule === 'cleanup' && l.msg === 'tick cleanup started', 'a cleanup tick');
    expect(tick.title).toBe(TITLE);

    // `status` reads the catalog the producer recorded: no handler module needed to see the title.
    const { SPOTTER_JOBS_HANDLERS: _m, ...bare } = s.env;
    const status = await runCli(['status'], bare);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toMatch(/^KIND\s+TITLE\s+QUEUE/m);
    expect(status.stdout).toMatch(new RegExp(`^cleanup\\s+${TITLE}\\s+cleanup`, 'm'));
    expect(status.stdout).toMatch(/^sync\s+-\s+sync/m);
    const json = JSON.parse((await runCli(['status', '--json'], bare)).stdout);
    expect(json.schedules.find((x: { name: string }) => x.name === 'cleanup').title).toBe(TITLE);

    const base = `http://127.0.0.1:${port}`;
    const api = await waitFor('the API', () => fetch(`${base}/api/schedules`).catch(() => undefined));
    const schedules = (await api.json()) as unknown;
    expect(JSON.stringify(schedules)).toContain(`"name":"cleanup","title":"${TITLE}"`);
    const page = await (await fetch(`${base}/`)).text();
    expect(page).toContain(`<b>cleanup</b><br><span class="muted">${TITLE}</span>`);
    const board = (await (await fetch(`${base}/board/api/queues`)).json()) as {
      queues: Array<{ name: string; displayName?: string; description?: string }>;
    };
    const q = board.queues.find((x) => x.name === 'cleanup');
    expect(q?.displayName).toBe(`${TITLE} (cleanup)`);
    expect(q?.description).toContain(`cleanup (${TITLE})`);
    expect(board.queues.find((x) => x.name === 'sync')?.displayName).toBeUndefined();
  });
});
