/** A trigger's text that was refused; `message` names the part that was not understood. */
export class RuleError extends Error {
  override readonly name = 'RuleError';

  constructor(
    /** The text as given. */
    readonly rule: string,
    message: string,
  ) {
    super(message);
  }
}
