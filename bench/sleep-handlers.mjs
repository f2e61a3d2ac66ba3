// Makespan benchmark: BENCH_USERS users listed from memory, and a handler that takes BENCH_HANDLER_MS
// on a timer (waiting, like a call to a provider, not CPU), so the figures measure how well the slots
// are kept busy.
const n = Number(process.env.BENCH_USERS ?? 0);
const ms = Number(process.env.BENCH_HANDLER_MS ?? 20);
export async function* listUsers() {
  for (let i = 0; i < n; i++) yield `u${i}`;
}
export const sync = () => new Promise((resolve) => setTimeout(() => resolve(null), ms));
export const enrichment = sync;
export const writeback = sync;
