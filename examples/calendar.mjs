// A calendar of named global jobs, the kind an in-process scheduler runs: each is one job per tick,
// whichever producer takes it, with retries and dead letters like any other job.
//
//   npm run example:calendar                      # runs them (times in SPOTTER_JOBS_TZ, Europe/Berlin here)
//   npx spotter-jobs trigger credit-top-up        # in another terminal: run one now
//   npx spotter-jobs status                       # each calendar's next run, and how its last run ended
//
// The CLI needs no SPOTTER_JOBS_HANDLERS for these: it takes the kinds, and their settings, that the
// running producer recorded in Redis (same REDIS_URL and SPOTTER_JOBS_PREFIX).
//
// No `sync`, `enrichment` or `writeback` export: this module owns its catalog, so Spotter's three
// kinds are not part of it.

const sleep = (ms, signal) => new Promise((resolve, reject) => {
  const t = setTimeout(resolve, ms);
  signal.addEventListener('abort', () => (clearTimeout(t), reject(signal.reason)), { once: true });
});

export const jobs = {
  'credit-top-up': {
    scope: 'global',
    description: 'monthly credit top-up, on the 1st at midnight',
    schedule: '0 0 1 * *',
    attempts: 3,
    timeout: '10m',
    run: async (ctx) => {
      // ctx.jobId is stable across retries: use it as the idempotency key of the top-up.
      ctx.log.info({ key: ctx.jobId, month: new Date(ctx.scheduledFor).toISOString().slice(0, 7) }, 'topping up credits');
      await sleep(200, ctx.signal);
      return { toppedUp: 42 };
    },
  },
  'stale-purchase-cleanup': {
    scope: 'global',
    description: 'daily cleanup of purchases left pending, at midnight',
    schedule: '0 0 * * *',
    run: async (ctx) => {
      await sleep(100, ctx.signal);
      return { removed: 3 };
    },
  },
  'weekly-report': {
    scope: 'global',
    description: 'weekly report, Mondays at 09:00',
    schedule: '0 9 * * 1',
    run: async (ctx) => ({ week: new Date(ctx.scheduledFor).toISOString().slice(0, 10) }),
  },
  heartbeat: {
    scope: 'global',
    description: 'an interval schedule, so the example shows a run every 30 seconds',
    schedule: '30s',
    run: async () => ({ alive: true }),
  },
};
