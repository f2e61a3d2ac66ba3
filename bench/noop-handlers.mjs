// Benchmark handlers: N users listed from memory, and no-op work, so the figures measure the queue.
const n = Number(process.env.BENCH_USERS ?? 0);
export async function* listUsers() {
  for (let i = 0; i < n; i++) yield `u${i}`;
}
export const sync = async () => null;
export const enrichment = sync;
export const writeback = sync;
