/**
 * The baseline worker process: plain BullMQ, a no-op processor (or one that waits HANDLER_MS on a
 * timer), the same connection settings, prefix and concurrency the spotter-jobs worker gets. Prints
 * "ready" once its blocking connection is up.
 */
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';

const conn = new Redis(process.env.REDIS_URL as string, { maxRetriesPerRequest: null });
const handlerMs = Number(process.env.HANDLER_MS ?? 0);
const processor = handlerMs > 0 ? () => new Promise((r) => setTimeout(() => r(null), handlerMs)) : async () => null;
const worker = new Worker(process.env.QUEUE ?? 'sync', processor, {
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
