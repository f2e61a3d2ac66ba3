/** `ctx.schedules`: the subject-schedule store, as a handler sees it (one per connection and config). */
import type { HandlerSchedules } from '../handlers/types.js';
import type { Queues } from '../jobs/queues.js';
import { SubjectSchedules } from '../schedules/subject/store.js';

const made = new WeakMap<Queues, HandlerSchedules>();

export function handlerSchedules(queues: Queues): HandlerSchedules {
  let s = made.get(queues);
  if (!s) {
    const store = new SubjectSchedules(queues.conn, queues.settings);
    s = {
      add: (schedule) => store.add(schedule),
      remove: (id) => store.remove(id),
      list: (subject, kind) =>
        'user' in subject ? store.ofSubject('user', subject.user, kind) : store.ofSubject('item', subject.item, kind),
    };
    made.set(queues, s);
  }
  return s;
}
