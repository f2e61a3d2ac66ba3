/** The per-kind variables: which field of a kind each `SPOTTER_JOBS_<KIND>_<FIELD>` sets. */
import { type BuiltinKind, envStemOf } from './catalog.js';

/** Per-kind variables as `[field, suffix]`; the schedule and enabled names may be Spotter's own. */
export const KIND_FIELDS = [
  ['schedule', 'SCHEDULE'],
  ['enabled', 'ENABLED'],
  ['offset', 'OFFSET'],
  ['firstRun', 'FIRST_RUN'],
  ['catchUp', 'CATCH_UP'],
  ['exclusive', 'EXCLUSIVE'],
  ['spread', 'SPREAD'],
  ['concurrency', 'CONCURRENCY'],
  ['globalConcurrency', 'GLOBAL_CONCURRENCY'],
  ['rateLimit', 'RATE_LIMIT'],
  ['attempts', 'ATTEMPTS'],
  ['backoff', 'BACKOFF'],
  ['timeout', 'TIMEOUT'],
  ['completedRetention', 'COMPLETED_RETENTION'],
  ['completedKeep', 'COMPLETED_KEEP'],
  ['failedRetention', 'FAILED_RETENTION'],
  ['followUps', 'FOLLOW_UPS'],
  ['maxChainDepth', 'MAX_CHAIN_DEPTH'],
  ['maxRetryDelay', 'MAX_RETRY_DELAY'],
  ['fair', 'FAIR'],
  ['fairWindow', 'FAIR_WINDOW'],
  ['ownerConcurrency', 'OWNER_CONCURRENCY'],
] as const;
export type KindField = (typeof KIND_FIELDS)[number][0];

/** The variable that sets `field` of kind `name`. */
export function kindVariable(name: string, decl: BuiltinKind, field: KindField): string {
  if (field === 'schedule' && decl.scheduleVar) return decl.scheduleVar;
  if (field === 'enabled' && decl.enabledVar) return decl.enabledVar;
  const suffix = KIND_FIELDS.find(([f]) => f === field)?.[1] as string;
  return `SPOTTER_JOBS_${envStemOf(name, decl)}_${suffix}`;
}
