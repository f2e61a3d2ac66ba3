/**
 * Every job knows its owner: a user kind's job is owned by its user; an item or global job by the
 * owner named when it was added, else by the owner of the job that added it, so a chain started from
 * a user's sync belongs to that user. Fair admission shares a kind's queue among owners by this.
 */
import type { JobData } from './registry.js';

/** The owner of jobs that have none (added by hand or by an ownerless job): never a user id, which may not hold `*`. */
export const NO_OWNER = '*';

/** The job's owner, or undefined for a job without one. */
export function ownerOf(data: Partial<JobData> | null | undefined): string | undefined {
  if (!data || typeof data !== 'object') return undefined;
  const d = data as { owner?: unknown; userId?: unknown };
  if (typeof d.userId === 'string') return d.userId;
  return typeof d.owner === 'string' ? d.owner : undefined;
}

/** The owner fair admission files the job under: its owner, or NO_OWNER. */
export function admissionOwner(data: Partial<JobData> | null | undefined): string {
  return ownerOf(data) ?? NO_OWNER;
}
