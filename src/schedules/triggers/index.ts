/** Triggers of subject schedules: when a user's own reminder runs. */
export { checkZone, parseTrigger } from './parse.js';
export { RuleError } from './rule-error.js';
export type { Trigger, TriggerContext, TriggerForm } from './trigger.js';
