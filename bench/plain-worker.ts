/**
 * The baseline worker process: plain BullMQ, no-op processor, the same connection settings, prefix
 * and concurrency the spotter-jobs worker gets. Prints "ready" once its blocking connection is up.
 */
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';

const conn = new Redis(process.env.REDIS_URL as string, { maxRetriesPerRequest: null });
const worker = new Worker(process.env.QUEUE ?? 'sync', async () => null, {
  connection: conn,
  prefix: process.env.PREFIX,
  concurrency: Number(process.env.CONCURRENCY ?? 10),
  removeOnComplete: { age: 86_400, count: 10_000_000 },
});
worker.on('error', () => {});
await worker.waitUntilReady();
process.stdout.write('ready\n');
const stop = async () => {
  await worker.close();
  conn.disconnect();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
