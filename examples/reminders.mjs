// Each user's own reminders, on triggers of their own: subject schedules.
//
//   npm run example:reminders                 # runs it; watch the `remind` lines come in
//   npx spotter-jobs schedule list            # in another terminal: every reminder, its trigger, its next run
//   npx spotter-jobs schedule add remind --user ann --rule "every day at 08:00" --tz Europe/Berlin
//   npx spotter-jobs user ann                 # ann's runs and her schedules
//
// `plan-reminders` runs for every user at start and then hourly, and sets that user's reminder with
// ctx.schedules.add: the same kind, user and name replace the earlier one, and adding it exactly as
// it stands changes nothing, so it may run any number of times. `remind` is the reminder itself; it
// has no schedule of its own: each user's schedule says when. Spotter (or any app) would do the same through the API: POST /api/subject-schedules.

const TRIGGERS = {
  ann: 'every 30 seconds',
  bob: 'every minute',
  cem: 'every weekday at 7:30',
  dee: 'every other tuesday at 9:34am',
  eve: 'FREQ=MONTHLY;BYMONTHDAY=1;BYHOUR=0;BYMINUTE=0',
};

export async function* listUsers() {
  yield* Object.keys(TRIGGERS);
}

export const jobs = {
  'plan-reminders': {
    scope: 'user',
    description: "sets each user's reminder (at start, then hourly)",
    schedule: '1h',
    firstRun: 'boot', // the first tick at start (no offset), then hourly
    run: async (userId, ctx) => {
      const s = await ctx.schedules.add({ kind: 'remind', user: userId, name: 'daily', rule: TRIGGERS[userId], tz: 'Europe/Berlin' });
      ctx.log.info({ schedule: s.id, understood: s.rule, next: s.runs }, `reminder for ${userId}: ${s.rule}`);
      return { schedule: s.id, rule: s.rule, next: s.runs[0] };
    },
  },
  remind: {
    scope: 'user',
    description: "a user's reminder, when their own schedule says",
    run: async (userId, ctx) => {
      const lateMs = Date.now() - ctx.scheduledFor;
      ctx.log.info({ due: new Date(ctx.scheduledFor).toISOString(), lateMs }, `reminding ${userId}`);
      return { reminded: userId, lateMs };
    },
  },
};
