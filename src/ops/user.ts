/** One user's history, shared by `spotter-jobs user`, `GET /api/users/{id}` and the status page. */

import type { Config } from '../config/config.js';
import { InvalidJobError } from '../jobs/errors.js';
import type { Queues } from '../jobs/queues.js';
import { subjectId } from '../jobs/registry.js';
import { type ScheduleView, SubjectSchedules } from '../schedules/subject/store.js';
import { type KindHistory, UserHistory } from '../services/user-history.js';

export interface UserReport {
  userId: string;
  /** False when no job of any kind ran, waits or was dead-lettered for this id: no record of the user exists. */
  known: boolean;
  kinds: KindHistory[];
  /** The user's own subject schedules, with their next runs. */
  schedules: ScheduleView[];
}

export async function userReport(queues: Queues, config: Config, userId: string): Promise<UserReport> {
  if (!subjectId.safeParse(userId).success)
    throw new InvalidJobError(`"${userId.slice(0, 80)}" is not a user id (letters, digits and . _ @ - only)`);
  const kinds = await new UserHistory(queues.conn, config).lookup(queues, userId);
  const schedules = await new SubjectSchedules(queues.conn, config).ofSubject('user', userId);
  return { userId, known: schedules.length > 0 || kinds.some((k) => k.lastRun || k.current || k.deadLetter), kinds, schedules };
}
