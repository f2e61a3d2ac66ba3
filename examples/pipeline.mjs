// An item pipeline: every sync finds the tracks a user wants, and each track then flows through its
// own steps, download -> index -> tag -> organize, one job per step, each step with its own
// concurrency. While one track is tagged, another still downloads.
//
//   npm run example:pipeline
//
// `sync` is Spotter's own kind (exported here as the function `sync`); the four steps are item kinds.
// `enrichment` and `writeback` are not exported, so they are not part of this module's catalog.

const sleep = (ms, signal) => new Promise((resolve, reject) => {
  const t = setTimeout(resolve, ms);
  signal.addEventListener('abort', () => (clearTimeout(t), reject(signal.reason)), { once: true });
});

export const listUsers = ['alice', 'bob', 'carol'];

/** Each sync wants a few tracks; a real one would ask the user's provider. */
export async function sync(userId, ctx) {
  const wanted = [1, 2, 3, 4].map((n) => ({ id: `${userId}-track-${n}`, data: { user: userId, title: `Track ${n}` } }));
  // Each child's id derives from this job, so a retried sync adds every download once.
  for (const track of wanted) await ctx.enqueue('download', track);
  return { wanted: wanted.length };
}

const track = {
  type: 'object',
  properties: { user: { type: 'string' }, title: { type: 'string' }, file: { type: 'string' } },
  required: ['user', 'title'],
};

/** One step: do the work, then hand the track to the next step. */
function step(ms, next, work) {
  return {
    scope: 'item',
    schema: track,
    ...(next ? { followUps: [next] } : {}),
    run: async (item, ctx) => {
      await sleep(ms, ctx.signal);
      const data = { ...item.data, ...work(item) };
      if (next) await ctx.enqueue(next, { id: item.id, data });
      ctx.log.info({ track: item.id, step: ctx.kind }, `${ctx.kind} done`);
      return data;
    },
  };
}

export const jobs = {
  download: { ...step(800, 'index', (i) => ({ file: `/downloads/${i.id}.flac` })), concurrency: 2, timeout: '10m' },
  index: { ...step(150, 'tag', () => ({})), concurrency: 4 },
  tag: { ...step(300, 'organize', () => ({})), concurrency: 2 },
  organize: { ...step(100, undefined, (i) => ({ file: `/music/${i.data.user}/${i.data.title}.flac` })), concurrency: 1 },
};
