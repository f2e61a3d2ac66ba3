/** What earlier rounds of profiling fixed and found: fixed text, kept with the figures it explains. */
export function profilesSection(): string[] {
  return [
    '## What the profiles showed before',
    '',
    'Earlier rounds of profiling (`node --cpu-prof` on the worker and fan-out paths), what they fixed and found:',
    '',
    "- **Fixed: one extra Redis round trip per job.** Coalescing first released its deduplication key when a job started (`job.removeDeduplicationKey()`), one more Lua call per job. It now uses BullMQ's own `keepLastIfActive` deduplication, decided inside the add: no per-job call at all. This was the largest cost (about 25 % of worker throughput).",
    '- **Fixed: a child logger per job.** `log.child()` on every job cost more than a no-op job; the per-job context is now built only if a handler reads `ctx.log`.',
    '- **Fixed: wildcard redaction paths** (`*.password` and the like) made pino walk every log object; secrets are scrubbed from whole lines by value anyway, so only explicit paths remain.',
    '- **Fixed: synchronous log writes** (one `write(2)` per job line). An asynchronous write per line (the thread pool) cost almost as much, as a destination that keeps up takes each line on its own; lines are now written synchronously, the lines of one turn of the event loop in one write at its end (a warning or 8 K characters waiting at once), in order, and a reader that falls behind never blocks the process.',
    '- **Fixed: metric labels looked up per observation**; the labelled children are cached.',
    '- **Fixed: an AbortController per job.** BullMQ creates one for every job when the processor takes a signal; the adapter now takes none and makes `ctx.signal` only when a handler reads it.',
    "- **Remaining, by design:** per job, validating the payload (zod), one JSON log line and two metric updates. With a no-op handler that is measurable; with real handlers (tens of milliseconds and more) it is noise. Per fan-out, the per-tick job ids and the coalescing key each cost an EXISTS or SET NX inside the add's Lua script (see the ablation table); they are what makes a redone fan-out add nothing twice and a slow user not pile up jobs.",
    '- **On this 2-core machine** Redis, the benchmark and every worker process share two cores, so worker processes beyond one mostly compete for CPU; the scale-out table bends at once for both sides.',
    "- **Fixed: the exclusivity group's awaited call before every job.** A kind alone in its group now runs in the group's lane (a lease renewed every 100 ms) and asks Redis nothing per job; per-user keys are taken only while another kind of the group has work (see the policies table).",
    '- **Fixed: the history record cost more than the job.** A command pair per user (HSET and PEXPIRE through the client) was about 20 µs of worker CPU per job; it became one short field per kind in a hash per user, written by one script call per 50 ms for all users (about 145 B per user instead of 330 B). Creating, writing and expiring a key per user still cost Redis 4–6 µs per job; the record is now a field in one of 16 shared hashes per kind and retention period (one script call per 50 ms, history-write.lua: HSET, PEXPIREAT, and an HDEL from the period before, so each user keeps one record; it was an ioredis pipeline, which binds every script defined on the connection each time it is made, about 100 µs of worker CPU per flush), 0.5–1.4 µs per job.',
    "- **Found: a job hash left Redis' compact encoding.** Redis keeps a hash as a listpack only while every value is at most `hash-max-listpack-value` (64 bytes by default). BullMQ stores the job id and the deduplication id in each job's options, and the data holds the user, the scheduled time and the tick, so a spotter-jobs job hash was a full hash table: 924 B against plain BullMQ's 216 B. Retention moved from each job to the kind's worker (835 B), and the shipped Redis (compose, Kubernetes, the private one `npm start` runs, the benchmark's, for both sides) sets `hash-max-listpack-value 256`: 408 B.",
    '',
  ];
}
