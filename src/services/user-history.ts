/**
 * One user's history: a small hash per user, written as each of their jobs finishes (one field per kind,
 * written after BullMQ stored the outcome), so "what happened to me?" is answered without scanning a
 * queue. It holds the last run of each kind and the id of its latest dead letter; it expires with
 * the user's last job (the kinds' completed retention), so its memory is bounded by active users.
 */
import type { Job } from 'bullmq';
import type { Config } from '../config.js';
import type { KindConfig } from '../jobs/kinds.js';
import type { Queues } from '../jobs/queues.js';
import { coalesceId, DEAD_LETTER_QUEUE, deadLetterId, kindsOf } from '../jobs/registry.js';
import type { RedisClient } from '../redis.js';

export interface LastRun {
  jobId: string;
  /** When it finished (epoch ms). */
  at: number;
  outcome: 'completed' | 'failed' | 'dead_letter';
  attempts: number;
  durationMs: number;
  reason?: string;
}

export interface KindHistory {
  kind: string;
  queue: string;
  lastRun: LastRun | null;
  /** The user's job of this kind that has not finished: its id and state, or null. */
  current: { jobId: string; state: string } | null;
  /** The next tick that will include the user (scheduled user kinds). */
  nextTick: number | null;
  deadLetter: { id: string; failedReason: string; failedAt: number } | null;
}

/** How long finished jobs' history writes are gathered before they go to Redis in one call. */
const FLUSH_MS = 50;

// KEYS: user records. ARGV[1]: their TTL; then per key the number of field/value strings and them.
// One call per flush: a command per user (and one for its expiry) cost more than the job itself.
const WRITE = `local i = 2
for _, key in ipairs(KEYS) do
  local n = tonumber(ARGV[i])
  redis.call('hset', key, unpack(ARGV, i + 1, i + n))
  redis.call('pexpire', key, ARGV[1])
  i = i + n + 1
end
return #KEYS`;

type Recording = RedisClient & { sjHistory(numKeys: number, ...args: string[]): Promise<number> };

const OUTCOME_CODE: Record<LastRun['outcome'], string> = { completed: 'c', failed: 'f', dead_letter: 'd' };
const OUTCOMES = Object.fromEntries(Object.entries(OUTCOME_CODE).map(([o, c]) => [c, o])) as Record<string, LastRun['outcome']>;

/**
 * A kind's last run, from its one field: `<at base 36> <outcome> <attempts> <duration ms> <job id>`,
 * then the reason of a failure. Job ids have no spaces (subject ids allow none), reasons may.
 */
function lastRunOf(rec: Record<string, string>, kind: string): LastRun | null {
  const v = rec[kind];
  if (!v) return null;
  // Written by a version before the compact field (kept for the retention, 24 h by default).
  if (v.startsWith('{')) return JSON.parse(v) as LastRun;
  const parts = v.split(' ');
  const [at36, code, attempts, durationMs, jobId] = parts;
  const reason = parts.slice(5).join(' ');
  return {
    jobId: jobId ?? '',
    at: Number.parseInt(at36 ?? '0', 36),
    outcome: OUTCOMES[code ?? ''] ?? 'failed',
    attempts: Number(attempts),
    durationMs: Number(durationMs),
    ...(reason ? { reason } : {}),
  };
}

export function userKey(prefix: string, userId: string): string {
  return `${prefix}:spotter-jobs:user:${userId}`;
}

export class UserHistory {
  private readonly ttlMs: number;
  constructor(
    private readonly conn: RedisClient,
    private readonly config: Config,
  ) {
    // As long as the user's longest-kept job: the record goes with the last of them.
    this.ttlMs = Math.max(config.retention.completedAgeMs, ...kindsOf(config).map((k) => k.retention.completedAgeMs));
    if (typeof (conn as Recording).sjHistory !== 'function') conn.defineCommand('sjHistory', { lua: WRITE });
  }

  /** Field-value pairs waiting for the next flush, by user key. */
  private pending = new Map<string, string[]>();
  private timer: NodeJS.Timeout | undefined;

  /**
   * Records a finished attempt of a user job. Writes are gathered for FLUSH_MS and sent as one
   * script call: a record per job costs a few microseconds, not a round trip (a worker killed within
   * those milliseconds loses the history of its last jobs, never a job).
   */
  record(kind: KindConfig, job: Job, outcome: LastRun['outcome']): void {
    const userId = (job.data as { userId?: unknown })?.userId;
    if (typeof userId !== 'string') return;
    const at = job.finishedOn ?? Date.now();
    const key = userKey(this.config.prefix, userId);
    let fields = this.pending.get(key);
    if (!fields) {
      fields = [];
      this.pending.set(key, fields);
    }
    // One short field per kind, so that Redis keeps a user's record in its compact encoding (with
    // the shipped hash-max-listpack-value) and a job adds two arguments to the flush, not six.
    const k = kind.name;
    const run = `${at.toString(36)} ${OUTCOME_CODE[outcome]} ${job.attemptsMade} ${at - (job.processedOn ?? at)} ${job.id}`;
    fields.push(k, outcome === 'completed' ? run : `${run} ${(job.failedReason ?? '').slice(0, 500)}`);
    if (outcome === 'dead_letter') fields.push(`dl:${k}`, deadLetterId(kind.queue, String(job.id)));
    if (!this.timer) {
      this.timer = setTimeout(() => void this.flush().catch(() => {}), FLUSH_MS);
      this.timer.unref();
    }
  }

  /** Sends what is gathered, as one script call for all users; also called at shutdown. */
  async flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new Map();
    const keys = [...batch.keys()];
    const args: string[] = [String(this.ttlMs)];
    for (const fields of batch.values()) args.push(String(fields.length), ...fields);
    await (this.conn as Recording).sjHistory(keys.length, ...keys, ...args);
  }

  /** Everything about one user, in a few Redis calls per kind, whatever the number of users. */
  async lookup(queues: Queues, userId: string): Promise<KindHistory[]> {
    const rec = await this.conn.hgetall(userKey(this.config.prefix, userId));
    const schedulers = new Map((await queues.schedules().getJobSchedulers(0, -1)).map((s) => [s.key, s]));
    const userKinds = kindsOf(this.config).filter((k) => k.scope === 'user');
    return Promise.all(
      userKinds.map(async (k): Promise<KindHistory> => {
        const q = queues.get(k.queue);
        const pendingId = await q.getDeduplicationJobId(coalesceId(k.queue, userId));
        const pending = pendingId ? await q.getJob(pendingId) : undefined;
        const dlId = rec[`dl:${k.name}`];
        const dl = dlId ? await queues.get(DEAD_LETTER_QUEUE).getJob(dlId) : undefined;
        const s = schedulers.get(k.name);
        return {
          kind: k.name,
          queue: k.queue,
          lastRun: lastRunOf(rec, k.name),
          current: pending ? { jobId: String(pending.id), state: await pending.getState() } : null,
          nextTick: s?.next ?? null,
          deadLetter: dl ? { id: String(dl.id), failedReason: String(dl.data.failedReason), failedAt: Number(dl.data.failedAt) } : null,
        };
      }),
    );
  }
}
