// An item pipeline: every sync finds the tracks a user wants, and each track then flows through its
// own steps, download -> index -> tag -> organize, one job per step, each step with its own
// concurrency. While one track is tagged, another still downloads.
//
//   npm run example:pipeline
//
// `sync` is Spotter's own kind (exported here as the function `sync`); the four steps are item kinds.
// `enrichment` and `writeback` are not exported, so they are not part of this module's catalog.
//
// Fair share: alice's sync finds a whole library, bob's and carol's a few tracks a moment later.
// Each track job is owned by the user whose sync added it (the owner is handed down the chain), and
// item kinds are fair by default, so bob's and carol's tracks go between alice's, not after all of
// them: organized after about 9 s instead of 85 s. `npx spotter-jobs status` shows alice's backlog,
// `npx spotter-jobs user bob` bob's. Start it with SPOTTER_JOBS_DOWNLOAD_FAIR=false (and the same
// for INDEX, TAG and ORGANIZE) to see bob wait behind alice's 200 tracks.

const sleep = (ms, signal) => new Promise((resolve, reject) => {
  const t = setTimeout(resolve, ms);
  signal.addEventListener('abort', () => (clearTimeout(t), reject(signal.reason)), { once: true });
});

/** What each user's sync finds, and how long their provider takes to answer. */
const library = { alice: { tracks: 200, ms: 200 }, bob: { tracks: 3, ms: 1500 }, carol: { tracks: 5, ms: 2500 } };

export const listUsers = Object.keys(library);

/** Each sync wants the user's new tracks; a real one would ask the user's provider. */
export async function sync(userId, ctx) {
  const { tracks: n, ms } = library[userId] ?? { tracks: 1, ms: 100 };
  await sleep(ms, ctx.signal);
  const wanted = Array.from({ length: n }, (_, i) => ({ id: `${userId}-track-${i + 1}`, data: { user: userId, title: `Track ${i + 1}` } }));
  // Each child's id derives from this job, so a retried sync adds every download once; each is
  // owned by this user (ctx.owner), as is every step after it.
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
      ctx.log.info({ track: item.id, step: ctx.kind, owner: ctx.owner }, `${ctx.kind} done`);
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
