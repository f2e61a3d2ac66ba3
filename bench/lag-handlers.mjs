// Tick-lag benchmark: records "<tick due> <job started>" (epoch ms) for every job.
import { appendFileSync } from 'node:fs';

const n = Number(process.env.BENCH_USERS ?? 0);
export async function* listUsers() {
  for (let i = 0; i < n; i++) yield `u${i}`;
}
export const sync = async (_userId, ctx) => {
  appendFileSync(process.env.BENCH_LEDGER, `${ctx.scheduledFor} ${Date.now()}\n`);
  return null;
};
export const enrichment = sync;
export const writeback = sync;
