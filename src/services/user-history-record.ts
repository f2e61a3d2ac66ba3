/**
 * One record of a user's history: what a field of a history hash holds (a kind's last run, or its
 * latest dead letter's id) and which of a kind's hashes holds a user. Written by UserHistory as jobs
 * finish, read back by its lookup.
 */
import type { Job } from 'bullmq';

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

/**
 * Users are spread over this many hashes per kind and period, so no single key grows past about
 * 1/16 of the users (a key that expires is freed in one piece).
 */
export const HISTORY_SHARDS = 16;

export const OUTCOME_CODE: Record<LastRun['outcome'], string> = { completed: 'c', failed: 'f', dead_letter: 'd' };
const OUTCOMES = Object.fromEntries(Object.entries(OUTCOME_CODE).map(([o, c]) => [c, o])) as Record<string, LastRun['outcome']>;

/**
 * A kind's last run, from its one field: `<at base 36> <outcome> <attempts> <duration ms> <job id>`,
 * then the reason of a failure. Job ids have no spaces (subject ids allow none), reasons may.
 */
export function lastRunOf(v: string | null | undefined): LastRun | null {
  if (!v) return null;
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

/** A dead letter as the history shows it, or null when it is gone (replayed, removed, past retention). */
export function deadLetterOf(dl: Job | undefined | null): KindHistory['deadLetter'] {
  return dl ? { id: String(dl.id), failedReason: String(dl.data.failedReason), failedAt: Number(dl.data.failedAt) } : null;
}

/** Which of a kind's history hashes holds the user (a stable 32-bit string hash). */
export function historyShard(userId: string): number {
  let h = 0;
  for (let i = 0; i < userId.length; i++) h = (Math.imul(h, 31) + userId.charCodeAt(i)) | 0;
  return (h >>> 0) % HISTORY_SHARDS;
}
