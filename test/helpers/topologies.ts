/**
 * Real multi-node Redis topologies from plain redis-server processes on free loopback ports:
 * a 3-master Redis Cluster, and a master + replica watched by 3 Sentinels.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, LocalRedis } from '../../src/redis/local.js';
import { waitFor } from './wait-for.js';

function cli(port: number, ...args: string[]): string {
  const r = spawnSync('redis-cli', ['-p', String(port), ...args], { encoding: 'utf8', timeout: 10_000 });
  return `${r.stdout}${r.stderr}`;
}

/** A free port whose cluster-bus port (port + 10000) is free as well. */
async function clusterPort(taken: Set<number>): Promise<number> {
  for (;;) {
    const p = await freePort();
    if (p > 55_000 || taken.has(p)) continue;
    const { createServer } = await import('node:net');
    const busFree = await new Promise<boolean>((res) => {
      const srv = createServer();
      srv.once('error', () => res(false));
      srv.listen(p + 10_000, '127.0.0.1', () => srv.close(() => res(true)));
    });
    if (busFree) {
      taken.add(p);
      return p;
    }
  }
}

export interface Topology {
  nodes: LocalRedis[];
  dispose(): Promise<void>;
}

export async function startCluster(masters = 3): Promise<Topology & { url: string }> {
  const root = mkdtempSync(join(tmpdir(), 'spotter-jobs-cluster-'));
  const taken = new Set<number>();
  const nodes: LocalRedis[] = [];
  const dispose = async () => {
    await Promise.all(nodes.map((n) => n.stop('SIGKILL')));
    rmSync(root, { recursive: true, force: true });
  };
  try {
    return await buildCluster();
  } catch (err) {
    // A half-built cluster must not outlive the test that failed to build it.
    await dispose();
    throw err;
  }
  async function buildCluster() {
    for (let i = 0; i < masters; i++) {
      const port = await clusterPort(taken);
      const dir = join(root, String(port));
      mkdirSync(dir);
      const node = new LocalRedis({
        port,
        dir,
        appendonly: false,
        args: ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', '2000'],
      });
      await node.start();
      nodes.push(node);
    }
    const addrs = nodes.map((n) => `127.0.0.1:${n.opts.port}`);
    const out = spawnSync('redis-cli', ['--cluster', 'create', ...addrs, '--cluster-replicas', '0', '--cluster-yes'], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    if (out.status !== 0) throw new Error(`redis-cli --cluster create failed: ${out.stdout}${out.stderr}`);
    for (const n of nodes)
      await waitFor('cluster state ok', () => cli(n.opts.port, 'cluster', 'info').includes('cluster_state:ok'), { timeoutMs: 20_000 });
    return { nodes, url: nodes[0]?.url as string, dispose };
  }
}

export async function startSentinels(name = 'mymaster'): Promise<
  Topology & {
    master: LocalRedis;
    replica: LocalRedis;
    sentinels: LocalRedis[];
    sentinelList: string;
    masterPort: () => number;
    failover: () => void;
  }
> {
  const root = mkdtempSync(join(tmpdir(), 'spotter-jobs-sentinel-'));
  const mk = (sub: string) => {
    const d = join(root, sub);
    mkdirSync(d);
    return d;
  };
  const started: LocalRedis[] = [];
  const dispose = async () => {
    await Promise.all(started.map((n) => n.stop('SIGKILL')));
    rmSync(root, { recursive: true, force: true });
  };
  try {
    return await build();
  } catch (err) {
    await dispose();
    throw err;
  }
  async function build() {
    const masterPort = await freePort();
    const master = new LocalRedis({ port: masterPort, dir: mk('master') });
    started.push(master);
    await master.start();
    const replica = new LocalRedis({ port: await freePort(), dir: mk('replica'), args: ['--replicaof', '127.0.0.1', String(masterPort)] });
    started.push(replica);
    await replica.start();
    await waitFor('replica in sync', () => cli(replica.opts.port, 'info', 'replication').includes('master_link_status:up'), {
      timeoutMs: 20_000,
    });
    const sentinels: LocalRedis[] = [];
    for (let i = 0; i < 3; i++) {
      const port = await freePort();
      const dir = mk(`sentinel-${i}`);
      const conf = join(dir, 'sentinel.conf');
      writeFileSync(
        conf,
        [
          `sentinel monitor ${name} 127.0.0.1 ${masterPort} 2`,
          `sentinel down-after-milliseconds ${name} 1000`,
          `sentinel failover-timeout ${name} 5000`,
          `sentinel parallel-syncs ${name} 1`,
          '',
        ].join('\n'),
      );
      const s = new LocalRedis({ port, dir, configFile: conf, sentinel: true, appendonly: false });
      started.push(s);
      await s.start();
      sentinels.push(s);
    }
    const current = () => {
      const out = cli(sentinels[0]?.opts.port as number, 'sentinel', 'get-master-addr-by-name', name)
        .trim()
        .split('\n');
      return Number(out[1]);
    };
    await waitFor(
      'sentinels see the replica',
      () => {
        const out = cli(sentinels[0]?.opts.port as number, 'sentinel', 'replicas', name);
        return out.includes(String(replica.opts.port));
      },
      { timeoutMs: 20_000, intervalMs: 1000 },
    );
    return {
      nodes: [master, replica, ...sentinels],
      master,
      replica,
      sentinels,
      sentinelList: sentinels.map((s) => `127.0.0.1:${s.opts.port}`).join(','),
      masterPort: current,
      failover: () => {
        const out = cli(sentinels[0]?.opts.port as number, 'sentinel', 'failover', name);
        if (!out.includes('OK')) throw new Error(`SENTINEL FAILOVER: ${out}`);
      },
      dispose,
    };
  }
}
