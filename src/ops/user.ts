/** One user's history, shared by `spotter-jobs user`, `GET /api/users/{id}` and the status page. */

import type { Config } from '../config/config.js';
import { InvalidJobError } from '../jobs/errors.js';
import type { Queues } from '../jobs/queues.js';
import { badSubjectId } from '../jobs/registry.js';
import { type ScheduleView, SubjectSchedules } from '../schedules/subject/store.js';
import { type KindHistory, UserHistory } from '../services/user-history.js';
import { backlogOf, hasBacklog, type KindOwnerBacklog } from './owners.js';

export interface UserReport {
  userId: string;
  /**
   * False when nothing is known of this id: no job of a user kind ran, waits or was dead-lettered
   * for it, and no job it owned ran, was dead-lettered or waits for fair admission.
   */
  known: boolean;
  kinds: KindHistory[];
  /** The user's own subject schedules, with their next runs. */
  schedules: ScheduleView[];
  /** Per fair kind: the user's jobs waiting for admission, now and due later (docs/fair-share.md). */
  backlog: KindOwnerBacklog[];
}

export async function userReport(queues: Queues, config: Config, userId: string): Promise<UserReport> {
  const problem = badSubjectId('a user id', userId);
  if (problem) throw new InvalidJobError(problem);
  const [kinds, backlog, schedules] = await Promise.all([
    new UserHistory(queues.conn, config).lookup(queues, userId),
    backlogOf(queues, config, userId),
    new SubjectSchedules(queues.conn, config).ofSubject('user', userId),
  ]);
  const known = schedules.length > 0 || kinds.some((k) => k.lastRun || k.current || k.deadLetter) || backlog.some(hasBacklog);
  return { userId, known, kinds, backlog, schedules };
}
