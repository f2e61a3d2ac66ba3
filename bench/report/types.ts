/** The figures of one benchmark run, as bench/results/*.json hold them. */
export interface Stat {
  median: number;
  min: number;
  max: number;
  runs: number[];
}

export interface WorkerCost {
  perSecond: Stat;
  nodeUs: Stat;
  redisUs: Stat;
}

/** One side of the makespan scenario: ms from the due time, a job's time in its slot, and CPU per job (µs). */
export interface MakespanSide {
  ms: Stat;
  firstMs: Stat;
  /** Every job added: the fan-out returned, or addBulk did. */
  addedMs: Stat;
  slotMs: Stat;
  workersCpuUs: Stat;
  /** The producer process, or the benchmark's addBulk. */
  addingCpuUs: Stat;
  redisCpuUs: Stat;
}

export interface BenchResult {
  date: string;
  /** Set when the figures come from several `--only` runs, merged by `--merge`. */
  mergedFrom?: string[];
  /** The date of the last run merged (`date` is the first's). */
  mergedUntil?: string;
  quick: boolean;
  reps: number;
  machine: { cores: number; cpu: string; memoryGiB: number; node: string };
  sizes: Record<string, unknown>;
  redis: Array<{
    persistence: string;
    version: string;
    throughput: Array<{ concurrency: number; jobs: number; spotter: Stat; bullmq: Stat }>;
    /** Where worker time goes: jobs/s and CPU per job (µs) of Node and Redis, per variant; absent in older runs. */
    workerAblation?: {
      concurrency: number;
      jobs: number;
      plain: WorkerCost;
      plainWorkerSpotterJobs: WorkerCost;
      spotter: WorkerCost;
    };
    fanout: Array<{
      users: number;
      spotterMs: Stat;
      bullmqMs: Stat;
      spotterBytesPerJob: Stat;
      bullmqBytesPerJob: Stat;
      spotterDrainMs?: Stat;
      bullmqDrainMs?: Stat;
    }>;
    ablation: Array<{
      users: number;
      plain: Stat;
      ids: Stat;
      idsAndCoalescing: Stat;
      /** Redis bytes per waiting job of each variant (median); absent in older runs. */
      bytesPerJob?: { plain: number; ids: number; idsAndCoalescing: number };
    }>;
    scale: Array<{ processes: number; jobs: number; spotter: Stat; bullmq: Stat }>;
    memory: { completedBytesPerJob: { spotter: number; bullmq: number } } | undefined;
    longRun: Array<{ tick: number; jobs: number; usedMemory: number }>;
    tickLag: { spotter: Stat; bullmq: Stat } | undefined;
    inProcess: { jobs: number; perSecond: Stat } | undefined;
    /** Exclusivity and user history: sync as shipped, without its group, and plain BullMQ. */
    policies?: {
      concurrency: number;
      jobs: number;
      /** Absent in runs before the group's lane. */
      bare?: Stat;
      exclusive: Stat;
      shared?: Stat;
      none: Stat;
      bullmq: Stat;
      historyBytesPerUser: number;
    };
    /** Subject schedules against BullMQ job schedulers; absent in runs before they existed. */
    subjectSchedules?: {
      schedules: number;
      bytesPerSchedule: number;
      addedPerSecond: number;
      bullmq: { schedulers: number; bytesPerScheduler: number; addedPerSecond: number };
      due: number;
      windowS: number;
      lagMs: { p50: number; p99: number; max: number; started: number };
      heapGrowthBytes: number;
    };
    /** Fair share: the starvation bound against plain BullMQ, and the cost against the same kind not fair; absent in older runs. */
    fair?: {
      handlerMs: number;
      afterMs: number;
      starvation: Array<{
        variant: string;
        kinds: number;
        items: number;
        flood: number;
        small: number;
        concurrency: number;
        spotter: { aloneMs: number; smallMs: number; floodMs: number };
        bullmq: { aloneMs: number; smallMs: number; floodMs: number };
      }>;
      cost: { jobs: number; concurrency: number; fair: Stat; plain: Stat };
    };
    /**
     * One tick's due time → its last job finished (ms), n users, a handler of `handlerMs`, `processes`
     * worker processes at `concurrency`; with spotter-jobs' window, without, and plain BullMQ's
     * addBulk. Absent in runs before it was measured.
     */
    makespan?: {
      users: number;
      handlerMs: number;
      processes: number;
      concurrency: number;
      idealMs: number;
      window: MakespanSide;
      noWindow: MakespanSide;
      /** The window on, workers not fetching jobs ahead of their slots; absent in runs before it was measured. */
      noFetchAhead?: MakespanSide;
      bullmq: MakespanSide;
    };
    /** One tick drained by one worker process: Redis peak above idle (bytes) and time until all done (ms). */
    window?: Array<{
      users: number;
      spotterPeak: number;
      bullmqPeak: number;
      spotterMs: number;
      bullmqMs: number;
      historyBytes?: number;
      /** The next tick, in the steady state (absent in runs before it was measured). */
      spotterNextPeak?: number;
      bullmqNextPeak?: number;
      spotterNextMs?: number;
      bullmqNextMs?: number;
    }>;
  }>;
}

/** One Redis's figures (without persistence, or with AOF). */
export type RedisResult = BenchResult['redis'][number];
