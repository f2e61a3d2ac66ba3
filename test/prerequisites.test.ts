/** `npm test` on a machine that lacks what the suite needs stops at once, with one line. */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const SCRIPT = resolve(import.meta.dirname, 'prerequisites.mjs');
const run = (env: Record<string, string>) => spawnSync(process.execPath, [SCRIPT], { env, encoding: 'utf8', timeout: 30_000 });

describe('the test prerequisites (the pretest step of npm test)', () => {
  it('pass when Chromium, a Redis and Prometheus are there', () => {
    const r = run({ PATH: process.env.PATH ?? '', CHROMIUM_PATH: process.execPath, REDIS_URL: 'redis://127.0.0.1:1' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
  });

  it('stop with one clear line naming what to install, when they may not install it', () => {
    const r = run({ PATH: '/nonexistent', CHROMIUM_PATH: '/nonexistent/chromium', SKIP_TEST_INSTALL: '1' });
    expect(r.status).toBe(1);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^npm test needs Chromium at \/nonexistent\/chromium .* and redis-server .* and prometheus and promtool .*: install chromium redis-server prometheus/,
    );
    expect(lines[0]).toContain('CHROMIUM_PATH');
  });
});
