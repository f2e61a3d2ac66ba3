/** What a handler module may import: the errors that decide a job's fate, and the handler types. */

export type { Handler, HandlerContext } from './handlers/types.js';
export { PermanentError, RetryAfterError } from './jobs/errors.js';
