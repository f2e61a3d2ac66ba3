#!/usr/bin/env node
// Runs before `npm test`: makes sure what the suite needs is on this machine, so the suite never
// fails halfway for a missing program. What it can install (Debian packages, as root) it installs;
// otherwise it stops at once with one line saying what to install. SKIP_TEST_INSTALL=1 forbids installing.
import { execFileSync, spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';

const canRun = (path) => {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
};
const onPath = (name) => spawnSync('/bin/sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0;
const root = process.getuid?.() === 0;
const mayInstall = root && onPath('apt-get') && process.env.SKIP_TEST_INSTALL !== '1';

const needs = [];
const chromium = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
if (!canRun(chromium)) {
  needs.push({
    what: `Chromium at ${chromium} (the browser tests)`,
    debian: 'chromium',
    usable: () => canRun(chromium),
    other: 'or set CHROMIUM_PATH',
  });
}
// The suite's Redis: REDIS_URL, else a Docker engine, else a private redis-server it starts.
if (!process.env.REDIS_URL && !onPath('redis-server')) {
  needs.push({
    what: 'redis-server (the tests start private Redis servers)',
    debian: 'redis-server',
    usable: () => onPath('redis-server'),
    other: 'or set REDIS_URL',
  });
}
// The monitoring tests: promtool checks and unit-tests the alert rules, a real Prometheus scrapes.
if (!onPath('prometheus') || !onPath('promtool')) {
  needs.push({
    what: 'prometheus and promtool (the alert-rule and dashboard tests)',
    debian: 'prometheus',
    usable: () => onPath('prometheus') && onPath('promtool'),
    other: 'or put both on PATH',
  });
}
if (needs.length === 0) process.exit(0);

if (mayInstall) {
  const pkgs = needs.map((n) => n.debian);
  process.stderr.write(`npm test: installing ${pkgs.join(' and ')} from Debian packages (needed by the tests)…\n`);
  try {
    execFileSync('apt-get', ['update', '-qq'], { stdio: ['ignore', 'ignore', 'inherit'] });
    execFileSync('apt-get', ['install', '-y', '-qq', ...pkgs], {
      stdio: ['ignore', 'ignore', 'inherit'],
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
  } catch {
    // Said below, with what is still missing.
  }
}
const missing = needs.filter((n) => !n.usable());
if (missing.length === 0) process.exit(0);
process.stderr.write(
  `npm test needs ${missing.map((n) => n.what).join(' and ')}: install ${missing.map((n) => n.debian).join(' ')} (Debian: sudo apt-get install -y ${missing.map((n) => n.debian).join(' ')}), ${missing.map((n) => n.other).join(', ')}\n`,
);
process.exit(1);
