/**
 * No Docker engine runs where these tests run, so the deployment files are proven by reading them:
 * what matters in each is checked against the code (real CLI commands, known variables, grace periods
 * above the shutdown timeout, Redis flags, replicas, no secrets baked in).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { BUILTIN_KINDS } from '../src/config/catalog.js';
import { parseDuration } from '../src/config/duration.js';
import { loadConfig } from '../src/config/load.js';
import { VARIABLES } from '../src/config/variables.js';
import { runCli } from './helpers/spawn-cli.js';

const ROOT = resolve(import.meta.dirname, '..');
const read = (f: string) => readFileSync(resolve(ROOT, f), 'utf8');
const KNOWN = new Set(VARIABLES.map((v) => v.name));
const SECRET_NAMES = /PASSWORD|SECRET/;

/** Docker Compose interpolation with the defaults, `${X:-d}` → d, `${X:?msg}` → the value given. */
function interpolate(value: string, given: Record<string, string>): string {
  return value.replace(
    /\$\{([A-Z_]+)(?::?([-?])([^}]*))?\}/g,
    (_m, name: string, op: string, rest: string) => given[name] ?? (op === '-' ? rest : ''),
  );
}

async function isRealCommand(cmd: string[]): Promise<void> {
  expect(cmd.slice(0, 2)).toEqual(['node', 'dist/cli.js']);
  const r = await runCli([...cmd.slice(2), '--help'], {});
  expect(r.code, `${cmd.join(' ')} --help`).toBe(0);
  expect(r.stdout).toContain('Environment variables:');
}

interface ComposeService {
  image?: string;
  command?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  volumes?: string[];
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
  deploy?: { replicas?: number };
  init?: boolean;
  stop_grace_period?: string;
  container_name?: string;
}

describe('docker-compose.yml', () => {
  const compose = parse(read('docker-compose.yml'), { merge: true }) as {
    services: Record<string, ComposeService>;
    volumes: Record<string, unknown>;
  };
  const { redis, producer, worker } = compose.services as Record<'redis' | 'producer' | 'worker', ComposeService>;

  it('runs Redis with AOF everysec, noeviction, a health check and a named volume, not published', () => {
    const cmd = (redis.command ?? []).join(' ');
    expect(cmd).toMatch(/^redis-server /);
    expect(cmd).toContain('--appendonly yes');
    expect(cmd).toContain('--appendfsync everysec');
    expect(cmd).toContain('--maxmemory-policy noeviction');
    // Job hashes in the compact encoding (a fan-out test checks what it does on a real Redis).
    expect(cmd).toContain('--hash-max-listpack-value 256');
    expect(read('deploy/kubernetes/redis.yaml')).toContain('"--hash-max-listpack-value", "256"');
    expect(redis.healthcheck?.test).toContain('ping');
    const [volume] = redis.volumes ?? [];
    expect(Object.keys(compose.volumes)).toContain(volume?.split(':')[0]);
    expect(redis.ports).toBeUndefined();
  });

  it('runs real CLI commands', async () => {
    await isRealCommand(producer.command ?? []);
    await isRealCommand(worker.command ?? []);
  });

  it('publishes the board on loopback only, and requires a password from the environment', () => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a Compose interpolation, compared literally
    expect(producer.ports).toEqual(['127.0.0.1:${SPOTTER_JOBS_BOARD_PORT:-3000}:3000']);
    expect(producer.environment?.SPOTTER_JOBS_BOARD_PASSWORD).toMatch(/^\$\{SPOTTER_JOBS_BOARD_PASSWORD:\?.+\}$/);
    expect(producer.depends_on?.redis?.condition).toBe('service_healthy');
  });

  it('scales workers: replicas, init, no fixed name or host port, grace above the shutdown timeout', () => {
    expect(worker.deploy?.replicas).toBe(2);
    expect(worker.init).toBe(true);
    expect(worker.container_name).toBeUndefined();
    expect(worker.ports).toBeUndefined();
    const shutdown = parseDuration(worker.environment?.SPOTTER_JOBS_SHUTDOWN_TIMEOUT ?? '25s') as number;
    for (const s of [producer, worker]) expect(parseDuration(s.stop_grace_period ?? '10s')).toBeGreaterThan(shutdown);
  });

  it('sets only variables the config accepts, with values it accepts, and bakes in no secret', () => {
    for (const s of [producer, worker]) {
      const env = s.environment ?? {};
      for (const [k, v] of Object.entries(env)) {
        expect(KNOWN.has(k), `${k} is not a variable spotter-jobs reads`).toBe(true);
        if (SECRET_NAMES.test(k)) expect(String(v), `${k} must come from the environment`).toMatch(/^\$\{[A-Z_]+(:[-?][^}]*)?\}$/);
      }
      const resolved = Object.fromEntries(
        Object.entries(env).map(([k, v]) => [k, interpolate(String(v), { SPOTTER_JOBS_BOARD_PASSWORD: 'x' })]),
      );
      expect(() => loadConfig(resolved)).not.toThrow();
    }
  });

  it('documents its variables in .env.example', () => {
    const example = read('.env.example');
    expect(example).toMatch(/^SPOTTER_JOBS_BOARD_PASSWORD=/m);
    for (const name of example.matchAll(/^#?\s*([A-Z_]+)=/gm))
      expect(KNOWN.has(name[1] as string) || name[1] === 'SPOTTER_JOBS_BOARD_PORT').toBe(true);
  });
});

describe('Dockerfile', () => {
  const df = read('Dockerfile');
  const lines = df.split('\n').filter((l) => l.trim() && !l.trim().startsWith('#'));

  it('is multi-stage on Node 24 slim, installs with npm ci and prunes dev dependencies', () => {
    const froms = lines.filter((l) => /^FROM /i.test(l));
    expect(froms.length).toBeGreaterThanOrEqual(2);
    for (const f of froms) expect(f).toMatch(/^FROM node:24(\.\d+)*-(bookworm-)?slim\b/);
    expect(df).toContain('npm ci');
    expect(df).toMatch(/npm prune --omit=dev/);
  });

  it('runs as a non-root user, node directly (never npm) as the command', async () => {
    const user = lines.filter((l) => /^USER /.test(l)).pop();
    expect(user).toBeDefined();
    expect(user).not.toMatch(/USER (root|0)\b/);
    const cmd = lines.filter((l) => /^CMD /.test(l)).pop() as string;
    const argv = JSON.parse(cmd.slice(4)) as string[];
    await isRealCommand(argv);
    for (const l of lines.filter((x) => /^(CMD|ENTRYPOINT) /.test(x))) expect(l).not.toContain('npm');
  });

  it('bakes in no secret and ignores local state', () => {
    for (const l of lines.filter((x) => /^(ENV|ARG) /.test(x))) expect(l).not.toMatch(SECRET_NAMES);
    const ignore = read('.dockerignore').split('\n');
    for (const p of ['node_modules', '.data', '.env', '.git']) expect(ignore).toContain(p);
  });
});

describe('Kubernetes manifests', () => {
  const dir = resolve(ROOT, 'deploy/kubernetes');
  // biome-ignore lint/suspicious/noExplicitAny: parsed YAML of several shapes, checked field by field below
  type Doc = { kind: string; metadata: { name: string; labels?: Record<string, string> }; spec?: any; data?: Record<string, string> };
  const docs: Doc[] = readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .flatMap((f) => parseAllDocuments(readFileSync(resolve(dir, f), 'utf8')).map((d) => d.toJS() as Doc))
    .filter((d) => d && typeof d === 'object' && 'kind' in d);
  const byKind = (kind: string) => docs.filter((d) => d.kind === kind);
  const configMap = byKind('ConfigMap')[0] as Doc;
  const shutdown = parseDuration(configMap.data?.SPOTTER_JOBS_SHUTDOWN_TIMEOUT ?? '25s') as number;

  it('lists only files that exist', () => {
    const k = parse(readFileSync(resolve(dir, 'kustomization.yaml'), 'utf8')) as { resources: string[] };
    for (const r of k.resources) expect(existsSync(resolve(dir, r)), r).toBe(true);
  });

  it('configures only variables the config accepts, and a config it accepts', () => {
    for (const k of Object.keys(configMap.data ?? {})) expect(KNOWN.has(k), k).toBe(true);
    expect(() => loadConfig(configMap.data)).not.toThrow();
  });

  it.each(['spotter-jobs-producer', 'spotter-jobs-worker'])(
    '%s: real command, probes, grace period, resources, known env',
    async (name) => {
      const d = byKind('Deployment').find((x) => x.metadata.name === name) as Doc;
      expect(d).toBeDefined();
      const pod = d.spec.template.spec;
      expect(pod.terminationGracePeriodSeconds * 1000).toBeGreaterThan(shutdown);
      const [c] = pod.containers;
      await isRealCommand(c.command);
      expect(c.livenessProbe.httpGet.path).toBe('/livez');
      expect(c.readinessProbe.httpGet.path).toBe('/readyz');
      expect(c.resources.requests.cpu).toBeDefined();
      expect(c.resources.requests.memory).toBeDefined();
      for (const e of c.env ?? []) expect(KNOWN.has(e.name), e.name).toBe(true);
      expect(c.envFrom.map((x: { secretRef?: { name: string } }) => x.secretRef?.name).filter(Boolean)).toEqual(['spotter-jobs']);
      expect(pod.securityContext.runAsNonRoot).toBe(true);
    },
  );

  it('exposes the board through a Service that selects the producer', () => {
    const svc = byKind('Service').find((s) => s.metadata.name === 'spotter-jobs-board') as Doc;
    const producer = byKind('Deployment').find((x) => x.metadata.name === 'spotter-jobs-producer') as Doc;
    expect(producer.spec.template.metadata.labels).toMatchObject(svc.spec.selector);
  });

  it('scales workers with KEDA on waiting + prioritized jobs from /metrics, not a raw LLEN', () => {
    const so = byKind('ScaledObject')[0] as Doc;
    expect(so.spec.scaleTargetRef.name).toBe('spotter-jobs-worker');
    const [trigger] = so.spec.triggers;
    expect(['prometheus', 'metrics-api']).toContain(trigger.type);
    const query = String(trigger.metadata.query);
    expect(query).toContain('spotter_jobs_queue_jobs');
    expect(query).toContain('waiting');
    expect(query).toContain('prioritized');
    expect(JSON.stringify(so)).not.toMatch(/llen|LLEN|listLength/);
  });

  it('ships no real secret', () => {
    const secret = parse(readFileSync(resolve(dir, 'secret.example.yaml'), 'utf8')) as { stringData: Record<string, string> };
    for (const v of Object.values(secret.stringData)) expect(v).toMatch(/^<.+>$/);
    expect(parse(readFileSync(resolve(dir, 'kustomization.yaml'), 'utf8')).resources).not.toContain('secret.example.yaml');
  });
});

describe('deployment files follow the catalog', () => {
  // Every deployment file, the monitoring ones included (the rules' unit tests use made-up names).
  const files = [
    'docker-compose.yml',
    ...readdirSync(resolve(ROOT, 'deploy'), { recursive: true, withFileTypes: true })
      .filter((f) => f.isFile() && /\.(ya?ml|json)$/.test(f.name))
      .map((f) => `${f.parentPath.slice(ROOT.length + 1)}/${f.name}`),
  ];
  const kindNames = Object.entries(BUILTIN_KINDS).flatMap(([name, k]) => [name, k.queue ?? name]);
  const pattern = new RegExp(`\\b(${kindNames.join('|')})\\b`);

  it.each(files)('%s names no job kind, so a new kind needs no edit there', (file) => {
    const text = read(file)
      .split('\n')
      .filter((l) => !l.trim().startsWith('#'))
      .join('\n');
    expect(text).not.toMatch(pattern);
  });
});
