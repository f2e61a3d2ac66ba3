/** Pausing and resuming a schedule, shared by the CLI, the API and the status page. */
import type { Queues } from '../jobs/queues.js';
import { pauseSchedule, resumeSchedule } from '../schedules/pause.js';

/** Returns whether anything changed (false: it was so already). */
export function setPaused(queues: Queues, kind: string, paused: boolean): Promise<boolean> {
  return paused ? pauseSchedule(queues.conn, queues.prefix, kind) : resumeSchedule(queues.conn, queues.prefix, kind);
}
