/** Reads the fixture handler's ledger: one JSON line per handler start, end or error. */
import { existsSync, readFileSync } from 'node:fs';

export interface LedgerEntry {
  event: 'start' | 'end' | 'error';
  pid: number;
  t: number;
  queue: string;
  jobId: string;
  userId: string;
  attempt: number;
  inflight?: number;
  aborted?: boolean;
  err?: string;
}

export function readLedger(path: string): LedgerEntry[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as LedgerEntry);
}

export const FIXTURE = new URL('../fixtures/handlers.mjs', import.meta.url).pathname;
