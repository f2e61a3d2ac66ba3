#!/usr/bin/env node
/**
 * `npm run stack -- --workers N`: the docker-compose topology as local processes, for machines
 * without a Docker engine, for fault injection and for benchmarks. A private redis-server started with
 * the very flags docker-compose.yml gives Redis, one producer, N workers, each on its own ports.
 * Ctrl-C stops everything.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { parse } from 'yaml';
import { freePort, LocalRedis } from '../redis/local.js';

const ROOT = resolve(import.meta.dirname, '../..');
const CLI = resolve(ROOT, 'dist/cli.js');

/** The redis-server flags of the compose file's `redis` service, so both topologies run one Redis. */
export function composeRedisArgs(file = resolve(ROOT, 'docker-compose.yml')): string[] {
  const compose = parse(readFileSync(file, 'utf8')) as { services: { redis: { command: string[] } } };
  const [bin, ...args] = compose.services.redis.command;
  if (bin !== 'redis-server') throw new Error(`docker-compose.yml: redis command starts with ${bin}, not redis-server`);
  return args;
}

export interface StackProcess {
  name: string;
  child: ChildProcess;
  port: number;
  exited: Promise<number | null>;
}

export interface Stack {
  redis: LocalRedis;
  redisUrl: string;
  producer: StackProcess;
  workers: StackProcess[];
  boardUrl: string;
  /** Starts one more worker (scale out), returning it. */
  addWorker(): Promise<StackProcess>;
  stop(): Promise<void>;
}

export interface StackOptions {
  workers: number;
  dataDir: string;
  env?: NodeJS.ProcessEnv;
  /** Where each child's output goes; default: inherited, prefixed lines are not needed for JSON logs. */
  stdio?: 'inherit' | 'pipe' | 'ignore';
  boardPort?: number;
}

function run(name: string, args: string[], env: NodeJS.ProcessEnv, port: number, stdio: StackOptions['stdio']): StackProcess {
  const child = spawn(process.execPath, [CLI, ...args], { env, stdio: ['ignore', stdio ?? 'inherit', stdio ?? 'inherit'] });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { name, child, port, exited };
}

export async function startStack(opts: StackOptions): Promise<Stack> {
  const redis = new LocalRedis({ port: await freePort(), dir: resolve(opts.dataDir, 'redis'), args: composeRedisArgs() });
  await redis.start();
  const env: NodeJS.ProcessEnv = { ...process.env, ...opts.env, REDIS_URL: redis.url };
  const boardPort = opts.boardPort ?? 3000;
  const producer = run(
    'producer',
    ['producer'],
    { ...env, SPOTTER_JOBS_HTTP_HOST: '127.0.0.1', SPOTTER_JOBS_HTTP_PORT: String(boardPort) },
    boardPort,
    opts.stdio,
  );
  const workers: StackProcess[] = [];
  const addWorker = async () => {
    const port = await freePort();
    const w = run(
      `worker-${workers.length + 1}`,
      ['worker'],
      { ...env, SPOTTER_JOBS_WORKER_HTTP_HOST: '127.0.0.1', SPOTTER_JOBS_WORKER_HTTP_PORT: String(port) },
      port,
      opts.stdio,
    );
    workers.push(w);
    return w;
  };
  for (let i = 0; i < opts.workers; i++) await addWorker();
  let stopping: Promise<void> | undefined;
  return {
    redis,
    redisUrl: redis.url,
    producer,
    workers,
    boardUrl: `http://127.0.0.1:${boardPort}/board`,
    addWorker,
    stop: () => {
      stopping ??= (async () => {
        // Senders before receivers: the producer first, then the workers finish their jobs, then Redis.
        for (const group of [[producer], workers]) {
          for (const p of group) if (p.child.exitCode === null) p.child.kill('SIGTERM');
          await Promise.all(group.map((p) => p.exited));
        }
        await redis.stop();
      })();
      return stopping;
    },
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      workers: { type: 'string', default: '2' },
      // The documented variable, as every other way of starting the producer honours it; --port wins.
      port: { type: 'string', default: process.env.SPOTTER_JOBS_HTTP_PORT?.trim() || '3000' },
      help: { type: 'boolean', default: false },
    },
  });
  const workers = Number(values.workers);
  if (values.help || !Number.isInteger(workers) || workers < 0) {
    process.stdout.write('usage: npm run stack -- [--workers N] [--port 3000]\n');
    process.exitCode = values.help ? 0 : 2;
    return;
  }
  const stack = await startStack({ workers, dataDir: resolve(ROOT, '.data/stack'), boardPort: Number(values.port) });
  process.stderr.write(
    `\nstack: redis-server ${stack.redisUrl} (flags from docker-compose.yml), producer ${stack.producer.child.pid}, ` +
      `${workers} worker(s) on ports ${stack.workers.map((w) => w.port).join(', ')}\n` +
      `stack: board at ${stack.boardUrl}; Ctrl-C stops everything\n\n`,
  );
  let signals = 0;
  const onSignal = () => {
    signals++;
    if (signals > 1) process.exit(1);
    process.stderr.write('\nstack: stopping producer, workers, then Redis\n');
    void stack.stop().then(() => process.exit(0));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // A child that dies on its own takes the stack down with it, so nothing runs half-configured.
  for (const p of [stack.producer, ...stack.workers]) {
    void p.exited.then((code) => {
      if (signals === 0) {
        process.stderr.write(`stack: ${p.name} exited with ${code}; stopping\n`);
        void stack.stop().then(() => process.exit(1));
      }
    });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.dirname, 'stack.js')) await main();
