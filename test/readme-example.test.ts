/** The README's handler module, copied verbatim outside the repository, loads and runs against the service. */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useHarnesses } from './helpers/in-process.js';
import { testEnv } from './helpers/redis.js';
import { runCli, startCli } from './helpers/spawn-cli.js';

const { h, onCleanup } = useHarnesses();

describe('the README handler example, verbatim, outside the repository', () => {
  it('loads: `import { PermanentError } from "spotter-jobs"` resolves to the running service', async () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const block = /```js\n\s*\/\/ my-handlers\.mjs\n[\s\S]*?```/.exec(readme)?.[0] as string;
    expect(block).toContain("import { PermanentError } from 'spotter-jobs'");
    const code = block
      .split('\n')
      .slice(1, -1)
      .map((l) => l.replace(/^ {3}/, ''))
      .join('\n');
    const dir = mkdtempSync(join(tmpdir(), 'spotter-jobs-outside-'));
    onCleanup(async () => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, 'my-handlers.mjs'), code);
    const x = await h();
    const env = { ...testEnv(x.prefix), SPOTTER_JOBS_HANDLERS: join(dir, 'my-handlers.mjs') };
    const s = await runCli(['status'], env);
    expect(s.code, s.stderr).toBe(0);
    const w = startCli(['worker'], { ...env, SPOTTER_JOBS_LOG_LEVEL: 'info' });
    onCleanup(() => w.stop());
    await w.waitForLog((l) => l.msg === 'worker started', 'worker started with the README module');
  });
});
