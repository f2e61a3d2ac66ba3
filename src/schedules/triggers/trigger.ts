/**
 * Triggers: when a subject schedule (a user's own reminder) runs. A trigger is parsed once from its
 * text and the subject's context, then asked for its next occurrence after each run.
 */

/** The forms a trigger's text is written in; English text is parsed into one of them. */
export type TriggerForm = 'once' | 'every' | 'cron' | 'rrule';

/** When a subject schedule runs. */
export interface Trigger {
  readonly form: TriggerForm;
  /** Canonical text: parseTrigger(canonical, same ctx) gives a trigger with the same occurrences. */
  readonly canonical: string;
  /** The first occurrence strictly after `after` (epoch ms), or undefined when none is left. */
  next(after: number): number | undefined;
}

/** What a trigger's occurrences depend on besides its text. */
export interface TriggerContext {
  /** IANA zone the wall-clock forms run in, e.g. 'Europe/Berlin' or 'UTC'. */
  tz: string;
  /** Epoch ms: the anchor of durations ("every interval from the creation") and the DTSTART of RRULEs. */
  start: number;
}

/**
 * One form's parser: a trigger when `text` (trimmed, single-spaced) is written in this form,
 * undefined when it is not (the next form is asked), or a thrown RuleError when it is but is wrong.
 */
export type FormParser = (text: string, ctx: TriggerContext) => Trigger | undefined;
