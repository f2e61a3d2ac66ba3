/**
 * The service's Lua scripts (src/redis/scripts/<name>.lua, each headed by its KEYS and ARGV), read
 * once at start and defined as commands of a connection with ioredis' defineCommand, so each call
 * sends the script's SHA rather than the script. A line `--- @include "<name>"` takes in a shared
 * file, as BullMQ's own scripts do.
 */
import { readFileSync } from 'node:fs';
import type { RedisClient } from './connection.js';

const DIR = new URL('./scripts/', import.meta.url);

function source(name: string): string {
  return readFileSync(new URL(`${name}.lua`, DIR), 'utf8').replace(/^--- @include "([a-z-]+)"$/gm, (_, inc: string) => source(inc));
}

/** Command name → script and key count (none: the key count is the first argument of each call). */
const COMMANDS = {
  sjLaneRenew: { file: 'lane-renew', numberOfKeys: 2 },
  sjLaneLeave: { file: 'lane-leave', numberOfKeys: 2 },
  sjAcquire: { file: 'exclusive-acquire', numberOfKeys: undefined },
  sjExtend: { file: 'exclusive-extend', numberOfKeys: 1 },
  sjRelease: { file: 'exclusive-release', numberOfKeys: undefined },
  sjTickReplayed: { file: 'tick-replayed', numberOfKeys: 1 },
  sjLockRelease: { file: 'lock-release', numberOfKeys: 1 },
  sjManualClock: { file: 'manual-clock', numberOfKeys: 1 },
  sjFieldIfExists: { file: 'field-if-exists', numberOfKeys: 1 },
  sjFanoutClaim: { file: 'fanout-claim', numberOfKeys: 1 },
  sjFanoutReserve: { file: 'fanout-reserve', numberOfKeys: 1 },
  sjSchedUpsert: { file: 'sched-upsert', numberOfKeys: 1 },
  sjSchedSet: { file: 'sched-set', numberOfKeys: 1 },
  sjSchedDue: { file: 'sched-due', numberOfKeys: 1 },
  sjSchedCommit: { file: 'sched-commit', numberOfKeys: 1 },
  sjSchedRecover: { file: 'sched-recover', numberOfKeys: 3 },
  sjSchedUnpark: { file: 'sched-unpark', numberOfKeys: 1 },
  sjSchedStart: { file: 'sched-start', numberOfKeys: 1 },
  sjFairAdd: { file: 'fair-add', numberOfKeys: 7 },
  sjFairRefill: { file: 'fair-refill', numberOfKeys: 15 },
  sjFairAck: { file: 'fair-ack', numberOfKeys: 8 },
  sjFairHold: { file: 'fair-hold', numberOfKeys: 2 },
  sjFairRelease: { file: 'fair-release', numberOfKeys: 5 },
  sjFairReweigh: { file: 'fair-reweigh', numberOfKeys: undefined },
  sjHistoryWrite: { file: 'history-write', numberOfKeys: undefined },
} as const;

// Read when the module loads: a package missing a script fails at start, not at its first call.
const LUA = Object.fromEntries(Object.entries(COMMANDS).map(([name, c]) => [name, source(c.file)]));

export type Scripted = RedisClient & {
  sjLaneRenew(lane: string, active: string, kind: string, member: string, ttl: string, running: string): Promise<[number, number]>;
  sjLaneLeave(lane: string, active: string, member: string, idle: string): Promise<number>;
  sjAcquire(numKeys: number, ...args: string[]): Promise<number[]>;
  sjExtend(key: string, token: string, ttl: string): Promise<number>;
  sjRelease(numKeys: number, ...args: string[]): Promise<number>;
  sjTickReplayed(tickJobs: string): Promise<number>;
  sjLockRelease(lock: string, token: string): Promise<number>;
  sjManualClock(clock: string, kind: string, now: string): Promise<number>;
  sjFieldIfExists(job: string, op: 'set' | 'incr', field: string, value: string): Promise<number | null>;
  sjFanoutClaim(schedule: string, tickId: string, dueAt: string): Promise<[number, string, string?, string?]>;
  sjFanoutReserve(schedule: string, tickId: string, position: string, length: string): Promise<number | string>;
  sjSchedUpsert(base: string, ...args: string[]): Promise<string[]>;
  sjSchedSet(
    base: string,
    id: string,
    read: string,
    def: string,
    next: string,
    shard: string,
    field: string,
    maxValue: string,
  ): Promise<number>;
  sjSchedDue(base: string, horizon: string, buckets: string, perBucket: string): Promise<string[]>;
  sjSchedCommit(base: string, ...args: string[]): Promise<number[]>;
  sjSchedRecover(base: string, job: string, specs: string, member: string, now: string, graceMs: string, jobId: string): Promise<number>;
  sjSchedUnpark(base: string, ...ids: string[]): Promise<number>;
  sjSchedStart(base: string, id: string, at: string, version: string, jobTs: string, now: string, rememberMs: string): Promise<string>;
  sjFairAdd(...keysThenArgs: string[]): Promise<string[]>;
  sjFairRefill(...keysThenArgs: string[]): Promise<[number, ...string[]]>;
  /** KEYS specs, admitting, held, holds, owners, parked, clock, cap; then the queue's key prefix, the owner cap, the ids. */
  sjFairAck(...keysThenArgs: string[]): Promise<number>;
  sjFairHold(held: string, holds: string, leaseMs: string, take: '', ...members: string[]): Promise<number>;
  sjFairHold(held: string, holds: string, leaseMs: string, queuePrefix: string, ...memberTokenPairs: string[]): Promise<string[]>;
  sjFairRelease(...keysThenArgs: string[]): Promise<number>;
  sjFairReweigh(numKeys: number, ...args: string[]): Promise<number>;
  sjHistoryWrite(numKeys: number, ...args: string[]): Promise<[number, number, string, number, string]>;
};

/** The connection with the scripts as its commands; defined on its first use, once per connection. */
export function scripted(conn: RedisClient): Scripted {
  const c = conn as Scripted;
  if (typeof c.sjSchedStart !== 'function') {
    for (const [name, { numberOfKeys }] of Object.entries(COMMANDS)) {
      conn.defineCommand(name, numberOfKeys === undefined ? { lua: LUA[name] as string } : { numberOfKeys, lua: LUA[name] as string });
    }
  }
  return c;
}
