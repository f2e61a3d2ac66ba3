/**
 * One user's history: a field per user in a kind's history hashes (per owner, for a kind whose jobs
 * are not per user), written as each of their jobs finishes (after BullMQ stored the outcome), so
 * "what happened to me?" is answered without scanning a queue. It holds the last run of each kind
 * and the id of its latest dead letter; it lives one to two retentions past the user's last job, so
 * its memory is bounded by active users.
 */
import type { Job } from 'bullmq';
import { Cluster } from 'ioredis';
import type { Config } from '../config/config.js';
import type { KindConfig } from '../config/kind-config.js';
import { ownerOf } from '../jobs/owner.js';
import type { Queues } from '../jobs/queues.js';
import { DEAD_LETTER_QUEUE, deadLetterId, kindsOf } from '../jobs/registry.js';
import { scripted } from '../redis/commands.js';
import type { RedisClient } from '../redis/connection.js';
import { historyKey, historyPattern } from '../redis/keys.js';
import type { Logger } from '../telemetry/logger.js';
import { deadLetterOf, historyShard, type KindHistory, type LastRun, lastRunOf, OUTCOME_CODE } from './user-history-record.js';

export { HISTORY_SHARDS, historyShard, type KindHistory, type LastRun } from './user-history-record.js';

/** How long finished jobs' history writes are gathered before they go to Redis in one call. */
const FLUSH_MS = 50;

/** What one flush writes into one hash: its field/value pairs and the older period's hash to drop them from. */
interface PendingHash {
  key: string;
  pairs: string[];
  /** Where each field's value is in `pairs`: an owner finishes many item jobs in one flush, and the last one is its record. */
  at: Map<string, number>;
  previous: string;
  expireAt: number;
}

/** One type of record of one kind, written in one period: its hashes by shard, made as users arrive. */
interface PendingPeriod {
  period: number;
  shards: Array<PendingHash | undefined>;
}

/**
 * The writes of one flush: found per job through `index` (by type, then kind, then period, nearly
 * always one per flush, then shard) without building a key string; sent from `hashes`.
 */
interface PendingBatch {
  index: Record<'runs' | 'dead', Map<string, PendingPeriod[]>>;
  hashes: PendingHash[];
}

const emptyBatch = (): PendingBatch => ({ index: { runs: new Map(), dead: new Map() }, hashes: [] });

/** Most field/value pairs one script call of a flush carries, so its arguments stay bounded. */
const MOST_PAIRS_PER_CALL = 10_000;

type HistoryCall = { keys: string[]; args: string[]; hashes: number };

/** A flush's hashes as script calls (history-write.lua) of at most MOST_PAIRS_PER_CALL pairs each. */
function historyCalls(hashes: readonly PendingHash[]): HistoryCall[] {
  const calls: HistoryCall[] = [];
  let call: HistoryCall = { keys: [], args: [], hashes: 0 };
  let pairs = 0;
  for (const h of hashes) {
    for (let i = 0; i < h.pairs.length; i += 2 * MOST_PAIRS_PER_CALL) {
      const part = h.pairs.slice(i, i + 2 * MOST_PAIRS_PER_CALL);
      if (pairs > 0 && pairs + part.length / 2 > MOST_PAIRS_PER_CALL) {
        calls.push(call);
        call = { keys: [], args: [], hashes: 0 };
        pairs = 0;
      }
      call.keys.push(h.key, h.previous);
      call.args.push(String(h.expireAt), String(part.length / 2));
      for (const v of part) call.args.push(v);
      call.hashes++;
      pairs += part.length / 2;
    }
  }
  if (call.hashes > 0) calls.push(call);
  return calls;
}

/**
 * Each user's last run of each kind, one field per user in a few shared hashes per kind. A record
 * written in period p (periods as long as the longest completed retention) goes to p's hash, and
 * leaves p-1's; p's hash expires at the end of period p+1. So a record lives at least one retention
 * past the user's last job, and at most two, with one record per user and kind. A flush is a few
 * commands for all users who finished a job within FLUSH_MS: per user a field in an existing hash,
 * where a key of its own per user (created, written and given an expiry each time) cost Redis more
 * than the rest of the job.
 */
export class UserHistory {
  /** How long one period of the history hashes lasts: the longest completed retention. */
  readonly periodMs: number;
  /** The last flush's failure, logged once until a flush succeeds again. */
  private failing = '';

  constructor(
    private readonly conn: RedisClient,
    private readonly config: Config,
    /** Told when a flush is not written; a lookup alone (`user <id>`) writes nothing. */
    private readonly log?: Logger,
  ) {
    // As long as the user's longest-kept job: the record goes with the last of them.
    this.periodMs = Math.max(config.retention.completedAgeMs, ...kindsOf(config).map((k) => k.retention.completedAgeMs));
  }

  /** Writes waiting for the next flush. */
  private pending = emptyBatch();
  private timer: NodeJS.Timeout | undefined;

  private add(what: 'runs' | 'dead', kind: string, userId: string, at: number, value: string): void {
    const period = Math.floor(at / this.periodMs);
    let periods = this.pending.index[what].get(kind);
    if (!periods) {
      periods = [];
      this.pending.index[what].set(kind, periods);
    }
    let p = periods.find((x) => x.period === period);
    if (!p) {
      p = { period, shards: [] };
      periods.push(p);
    }
    const shard = historyShard(userId);
    let h = p.shards[shard];
    if (!h) {
      const { prefix } = this.config;
      h = {
        key: historyKey(prefix, what, kind, shard, period),
        pairs: [],
        at: new Map(),
        previous: historyKey(prefix, what, kind, shard, period - 1),
        expireAt: (period + 2) * this.periodMs,
      };
      p.shards[shard] = h;
      this.pending.hashes.push(h);
    }
    const i = h.at.get(userId);
    if (i !== undefined) h.pairs[i] = value;
    else {
      h.at.set(userId, h.pairs.length + 1);
      h.pairs.push(userId, value);
    }
  }

  /**
   * Records a finished attempt of a user job, or of an item or global job under its owner (so
   * `user <id>` answers for the downloads a user's sync started too). Writes are gathered for
   * FLUSH_MS and sent together: a record per job costs a few microseconds, not a round trip (a
   * worker killed within those milliseconds loses the history of its last jobs, never a job).
   */
  record(kind: KindConfig, job: Job, outcome: LastRun['outcome']): void {
    const userId = ownerOf(job.data);
    // Ids were checked when the job was added; one added around that (on the board) is not recorded.
    if (userId === undefined || userId.length > 200) return;
    const at = job.finishedOn ?? Date.now();
    const run = `${at.toString(36)} ${OUTCOME_CODE[outcome]} ${job.attemptsMade} ${at - (job.processedOn ?? at)} ${job.id}`;
    this.add('runs', kind.name, userId, at, outcome === 'completed' ? run : `${run} ${(job.failedReason ?? '').slice(0, 500)}`);
    if (outcome === 'dead_letter') this.add('dead', kind.name, userId, at, deadLetterId(kind.queue, String(job.id)));
    if (!this.timer) {
      this.timer = setTimeout(() => void this.flush(), FLUSH_MS);
      this.timer.unref();
    }
  }

  /**
   * Sends what is gathered, in one script call for all users (history-write.lua); also called at
   * shutdown. Never rejects: a flush Redis refuses (all of it, or some hashes) is logged and dropped,
   * as the history is a record of jobs, not a job.
   */
  async flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const { hashes } = this.pending;
    if (hashes.length === 0) return;
    this.pending = emptyBatch();
    const totals = { refused: 0, uncleared: 0, first: '', stale: '' };
    for (const call of historyCalls(hashes)) {
      try {
        const [, refused, first, uncleared, stale] = await scripted(this.conn).sjHistoryWrite(call.keys.length, ...call.keys, ...call.args);
        totals.refused += refused;
        totals.uncleared += uncleared;
        totals.first ||= first;
        totals.stale ||= stale;
      } catch (err) {
        totals.refused += call.hashes;
        totals.first ||= (err as Error).message;
      }
    }
    this.report(totals, hashes.length);
  }

  private report(t: { refused: number; uncleared: number; first: string; stale: string }, of: number): void {
    const why = t.first || t.stale;
    if (why !== '' && why !== this.failing) {
      if (t.refused > 0)
        this.log?.warn({ err: t.first, hashes: t.refused, of }, "user history: some users' last runs of this flush were not recorded");
      else
        this.log?.warn(
          { err: t.stale, hashes: t.uncleared, of },
          'user history: recorded, but the period before was not cleared (its older records stay until it expires)',
        );
    }
    this.failing = why;
  }

  /** The newest of a user's values of one kind: this period's hash, else the one before. */
  private async newest(what: 'runs' | 'dead', kind: string, userId: string): Promise<string | null> {
    const shard = historyShard(userId);
    const period = Math.floor(Date.now() / this.periodMs);
    const [now, before] = await Promise.all([
      this.conn.hget(historyKey(this.config.prefix, what, kind, shard, period), userId),
      this.conn.hget(historyKey(this.config.prefix, what, kind, shard, period - 1), userId),
    ]);
    return now ?? before;
  }

  /**
   * Everything about one user, in a few Redis calls per kind, whatever the number of users: every
   * user kind, then each other kind with a record of a job the user owned.
   */
  async lookup(queues: Queues, userId: string): Promise<KindHistory[]> {
    const all = kindsOf(this.config);
    const [users, owned] = await Promise.all([
      this.userKinds(queues, userId, all),
      Promise.all(all.filter((k) => k.scope !== 'user').map((k) => this.ownedKind(queues, userId, k))),
    ]);
    return [...users, ...owned.filter((k): k is KindHistory => k !== null)];
  }

  /** A kind whose jobs are not per user: the owner's last run and dead letter of it, or null if none is kept. */
  private async ownedKind(queues: Queues, owner: string, k: KindConfig): Promise<KindHistory | null> {
    const [run, dlId] = await Promise.all([this.newest('runs', k.name, owner), this.newest('dead', k.name, owner)]);
    if (run === null && dlId === null) return null;
    const dl = dlId ? await queues.get(DEAD_LETTER_QUEUE).getJob(dlId) : undefined;
    return { kind: k.name, queue: k.queue, lastRun: lastRunOf(run), current: null, nextTick: null, deadLetter: deadLetterOf(dl) };
  }

  private async userKinds(queues: Queues, userId: string, all: readonly KindConfig[]): Promise<KindHistory[]> {
    const schedulers = new Map((await queues.schedules().getJobSchedulers(0, -1)).map((s) => [s.key, s]));
    const userKinds = all.filter((k) => k.scope === 'user');
    return Promise.all(
      userKinds.map(async (k): Promise<KindHistory> => {
        const q = queues.get(k.queue);
        const [run, dlId, pendingId] = await Promise.all([
          this.newest('runs', k.name, userId),
          this.newest('dead', k.name, userId),
          // The user's coalescing key is the user id (fan-out and add-job set it so).
          q.getDeduplicationJobId(userId),
        ]);
        const pending = pendingId ? await q.getJob(pendingId) : undefined;
        const dl = dlId ? await queues.get(DEAD_LETTER_QUEUE).getJob(dlId) : undefined;
        const s = schedulers.get(k.name);
        return {
          kind: k.name,
          queue: k.queue,
          lastRun: lastRunOf(run),
          current: pending ? { jobId: String(pending.id), state: await pending.getState() } : null,
          nextTick: s?.next ?? null,
          deadLetter: deadLetterOf(dl),
        };
      }),
    );
  }
}

/**
 * Deletes every history hash of a kind gone from the catalog (`forget`), found by pattern: the
 * period length may have changed with the catalog. One pass over the keyspace, on every master.
 */
export async function dropHistory(conn: RedisClient, prefix: string, kind: string): Promise<number> {
  const nodes = conn instanceof Cluster ? conn.nodes('master') : [conn];
  let dropped = 0;
  for (const node of nodes) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', historyPattern(prefix, kind), 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) dropped += await node.unlink(...keys);
    } while (cursor !== '0');
  }
  return dropped;
}
