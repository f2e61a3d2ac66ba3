/**
 * Gets the suite a Redis, in this order: REDIS_URL if set; a Testcontainers Redis when a Docker
 * engine answers; otherwise a private redis-server on a free port. Tests read it with inject('redisUrl').
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { freePort, LocalRedis } from '../../src/redis/local.js';

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string;
    redisSource: string;
  }
}

async function dockerAnswers(): Promise<boolean> {
  try {
    const { getContainerRuntimeClient } = await import('testcontainers');
    await Promise.race([getContainerRuntimeClient(), new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), 5000))]);
    return true;
  } catch {
    return false;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  if (process.env.REDIS_URL) {
    project.provide('redisUrl', process.env.REDIS_URL);
    project.provide('redisSource', 'REDIS_URL');
    return async () => {};
  }
  if (await dockerAnswers()) {
    const { RedisContainer } = await import('@testcontainers/redis');
    const container = await new RedisContainer('redis:7-alpine').start();
    project.provide('redisUrl', container.getConnectionUrl());
    project.provide('redisSource', 'testcontainers');
    return async () => void (await container.stop());
  }
  const dir = mkdtempSync(join(tmpdir(), 'spotter-jobs-test-redis-'));
  const redis = new LocalRedis({ port: await freePort(), dir, appendonly: false });
  await redis.start();
  project.provide('redisUrl', redis.url);
  project.provide('redisSource', 'redis-server');
  return async () => {
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  };
}
