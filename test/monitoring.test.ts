/**
 * The alert rules and the dashboard, proven with the real tools: promtool checks the rules and runs
 * their unit tests; a real Prometheus on loopback scrapes a running producer and worker (with the
 * scrape jobs of deploy/prometheus/prometheus.yml) and evaluates every panel's and every alert's
 * expression through its HTTP API while jobs run.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';
import { afterEach, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { freePort } from '../src/redis/local.js';
import { useProcessScenes } from './helpers/process-scene.js';
import { waitFor } from './helpers/wait-for.js';

const ROOT = resolve(import.meta.dirname, '..');
const RULES = resolve(ROOT, 'deploy/prometheus/alerts.yaml');
const rules = parse(readFileSync(RULES, 'utf8')) as { groups: { rules: { alert: string; expr: string }[] }[] };
const alerts = rules.groups.flatMap((g) => g.rules);
type Panel = { title: string; targets?: { expr: string }[]; panels?: Panel[] };
const dashboard = JSON.parse(readFileSync(resolve(ROOT, 'deploy/grafana/spotter-jobs.json'), 'utf8')) as { panels: Panel[] };
const panelQueries = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ title: p.title, expr: t.expr })));

const promtool = (args: string[], cwd = ROOT) => execFileSync('promtool', args, { cwd, encoding: 'utf8', timeout: 30_000 });

describe('the alert rules, by promtool', () => {
  it('are valid rules', () => {
    expect(promtool(['check', 'rules', RULES])).toContain(`SUCCESS: ${alerts.length} rules found`);
  });

  it('each fire on a broken cluster and stay quiet on a healthy one (promtool test rules)', () => {
    const tests = parse(readFileSync(resolve(ROOT, 'deploy/prometheus/alerts.test.yaml'), 'utf8')) as {
      tests: { alert_rule_test: { alertname: string; exp_alerts: unknown[] }[] }[];
    };
    // Every alert has a case where it fires and one where it does not.
    for (const { alert } of alerts) {
      const cases = tests.tests.flatMap((t) => t.alert_rule_test).filter((c) => c.alertname === alert);
      expect(
        cases.some((c) => c.exp_alerts.length > 0),
        `${alert} fires somewhere`,
      ).toBe(true);
      expect(
        cases.some((c) => c.exp_alerts.length === 0),
        `${alert} stays quiet somewhere`,
      ).toBe(true);
    }
    expect(promtool(['test', 'rules', 'alerts.test.yaml'], resolve(ROOT, 'deploy/prometheus'))).toContain('SUCCESS');
  });

  it('reach Kubernetes as a PrometheusRule generated from the same file', () => {
    execFileSync(process.execPath, [resolve(ROOT, 'deploy/monitoring.mjs'), '--check'], { encoding: 'utf8' });
    const rule = parse(readFileSync(resolve(ROOT, 'deploy/kubernetes/monitoring/prometheus-rule.yaml'), 'utf8'));
    expect(rule.kind).toBe('PrometheusRule');
    expect(rule.spec.groups).toEqual(rules.groups);
  });
});

describe('a real Prometheus scraping a producer and a worker', () => {
  const scene = useProcessScenes();
  let prometheus: ChildProcess | undefined;
  let dir: string | undefined;
  afterEach(async () => {
    if (prometheus && prometheus.exitCode === null) {
      const exited = new Promise((r) => prometheus?.once('exit', r));
      prometheus.kill('SIGKILL');
      await exited;
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('answers every panel and every alert expression while jobs run, and fires what is really wrong', async () => {
    const [producerPort, workerPort] = [await freePort(), await freePort()];
    const s = scene({
      SPOTTER_JOBS_HTTP_PORT: String(producerPort),
      SPOTTER_JOBS_WORKER_HTTP_PORT: String(workerPort),
      SPOTTER_JOBS_LOG_LEVEL: 'info',
      // perm1 fails for good on every tick, so dead letters really grow.
      FIXTURE_USER_IDS: 'u1,u2,u3,u4,u5,perm1',
      FIXTURE_WORK_MS: '20',
      SPOTTER_SYNC_INTERVAL: '2s',
    });
    const producer = s.start(['producer']);
    // Only sync is consumed: the other queues really have no worker.
    const worker = s.start(['worker', '--queues', 'sync']);
    const urlOf = async (p: typeof producer, msg: RegExp) => new URL(String((await p.waitForLog((l) => msg.test(l.msg), String(msg))).url));
    const producerUrl = await urlOf(producer, /^board at /);
    const workerUrl = await urlOf(worker, /^probes and metrics at /);

    // The operator's configuration, with loopback targets and second-scale intervals.
    dir = mkdtempSync(join(tmpdir(), 'spotter-jobs-prometheus-'));
    const config = parse(readFileSync(resolve(ROOT, 'deploy/prometheus/prometheus.yml'), 'utf8'));
    config.global = { scrape_interval: '1s', evaluation_interval: '1s' };
    config.rule_files = [RULES];
    const targets: Record<string, string> = { 'spotter-jobs-producer': producerUrl.host, 'spotter-jobs-worker': workerUrl.host };
    for (const job of config.scrape_configs) {
      expect(targets[job.job_name], job.job_name).toBeDefined();
      delete job.dns_sd_configs;
      job.static_configs = [{ targets: [targets[job.job_name]] }];
    }
    writeFileSync(join(dir, 'prometheus.yml'), stringify(config));
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    let log = '';
    prometheus = spawn(
      'prometheus',
      [
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    prometheus.stderr?.on('data', (d: Buffer) => {
      log = (log + d.toString()).slice(-4000);
    });
    await waitFor(
      () => `Prometheus ready\n${log}`,
      async () => (await fetch(`${base}/-/ready`)).ok,
      { timeoutMs: 30_000, intervalMs: 200 },
    );

    const query = async (expr: string) => {
      const r = await fetch(`${base}/api/v1/query?query=${encodeURIComponent(expr)}`);
      const body = (await r.json()) as { status: string; error?: string; data?: { result: unknown[] } };
      if (body.status !== 'success') throw new Error(`${expr}: ${body.error}`);
      return body.data?.result ?? [];
    };
    // Both targets up, then every panel has data (rates need a few scrapes of finished jobs).
    await waitFor('both targets scraped', async () => (await query('up{job=~".*spotter-jobs.*"} == 1')).length === 2, {
      timeoutMs: 20_000,
      intervalMs: 250,
    });
    const empty = async () => {
      const out: string[] = [];
      for (const q of panelQueries) if ((await query(q.expr)).length === 0) out.push(`${q.title}: ${q.expr}`);
      return out;
    };
    await waitFor(
      'every panel with data',
      async () => {
        const e = await empty();
        if (e.length > 0) throw new Error(`no data yet for ${e.join('; ')}`);
        return true;
      },
      { timeoutMs: 45_000, intervalMs: 500 },
    );
    expect(await empty()).toEqual([]);

    // Every rule loaded and evaluated without error; every series it reads exists; the expression runs.
    const loaded = (await (await fetch(`${base}/api/v1/rules`)).json()) as {
      data: { groups: { rules: { name: string; health: string; lastError?: string }[] }[] };
    };
    const ruleStates = loaded.data.groups.flatMap((g) => g.rules);
    expect(ruleStates.map((r) => r.name).sort()).toEqual(alerts.map((a) => a.alert).sort());
    for (const r of ruleStates) expect(`${r.name}: ${r.health} ${r.lastError ?? ''}`.trim()).toBe(`${r.name}: ok`);
    for (const a of alerts) {
      await query(a.expr);
      for (const metric of new Set(a.expr.match(/\b(?:spotter_jobs_\w+|up)\b/g))) {
        expect((await query(`count(${metric})`)).length, `${a.alert} reads ${metric}, which must exist`).toBe(1);
      }
    }

    // What is really wrong here: the queues nobody consumes, and sync's growing dead letters.
    const active = async () => {
      const r = (await (await fetch(`${base}/api/v1/alerts`)).json()) as { data: { alerts: { labels: Record<string, string> }[] } };
      return r.data.alerts.map((x) => `${x.labels.alertname} ${x.labels.queue ?? x.labels.source_queue ?? ''}`.trim()).sort();
    };
    const expected = [
      'SpotterJobsDeadLettersGrowing sync',
      'SpotterJobsQueueWithoutConsumer enrichment',
      'SpotterJobsQueueWithoutConsumer writeback',
    ];
    await waitFor(`alerts ${expected.join(', ')}`, async () => JSON.stringify(await active()) === JSON.stringify(expected), {
      timeoutMs: 30_000,
      intervalMs: 500,
    }).catch(async (err) => {
      throw new Error(`${(err as Error).message}; active: ${(await active()).join(', ')}`);
    });

    // The picture of the Prometheus graph page in docs/operations.md, taken from this run when asked for (after
    // two more minutes of jobs, so the lines have some length).
    const shots = process.env.SCREENSHOT_DIR;
    if (shots) {
      mkdirSync(shots, { recursive: true });
      type Sample = { value?: [number, string] } | undefined;
      const samples = async () =>
        Number(((await query('count_over_time(up{job="spotter-jobs-worker"}[5m])'))[0] as Sample)?.value?.[1] ?? 0);
      await waitFor('two minutes of samples', async () => (await samples()) >= 120, { timeoutMs: 200_000, intervalMs: 1000 });
      const browser = await chromium.launch({
        executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
        args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'],
      });
      try {
        const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
        const expr = 'sum by (queue, outcome) (rate(spotter_jobs_job_attempts_total[20s]))';
        await page.goto(`${base}/graph?g0.expr=${encodeURIComponent(expr)}&g0.tab=0&g0.range_input=2m`);
        await page.waitForLoadState('networkidle');
        await page.screenshot({ path: join(shots, 'prometheus-graph.png') });
      } finally {
        await browser.close();
      }
    }
  }, 400_000);
});
