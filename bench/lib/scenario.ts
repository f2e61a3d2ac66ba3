/** What every scenario gets from the run, and how the run knows a scenario. */
import type { Redis } from 'ioredis';
import type { BenchResult, RedisResult } from '../report/types.js';
import type { Sizes } from './sizes.js';

export interface BenchContext {
  conn: Redis;
  url: string;
  persistence: string;
  quick: boolean;
  reps: number;
  sizes: Sizes;
  /** The whole run so far, for a scenario that writes its own page as soon as it has measured. */
  result: BenchResult;
  /** This Redis's figures: each scenario fills in its own. */
  red: RedisResult;
  log: (line: string) => void;
}

export interface Scenario {
  /** The name `--only` selects it by. */
  name: string;
  run: (ctx: BenchContext) => Promise<void>;
}
