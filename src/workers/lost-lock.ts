/** Reading BullMQ's errors about a job lock this worker no longer holds. */

/**
 * The job whose lock BullMQ found lost, from its error (`Missing lock for job <id>. <command>`). Ids
 * may hold dots (`m.` of a manual tick, user ids like `jane.doe`) but never white space.
 */
export function lostLockJobId(message: string): string | undefined {
  return /(?:Missing lock|Lock mismatch) for job (\S+)\.(?:\s|$)/.exec(message)?.[1];
}
