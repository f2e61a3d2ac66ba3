/** What a bad configuration throws: start-up stops with exit code 78 naming the variable. */

/** A bad environment variable: start-up stops with exit code 78 naming it. */
export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(
    readonly variable: string,
    readonly value: string | undefined,
    readonly expected: string,
  ) {
    super(
      value === undefined
        ? `${variable} is not set; expected ${expected}`
        : `${variable}=${JSON.stringify(value)} is invalid; expected ${expected}`,
    );
  }
}

/** A SPOTTER_JOBS_ variable nothing reads, most likely misspelled. Its value is not echoed: it may be a secret. */
export class UnknownVariableError extends ConfigError {
  constructor(variable: string, closest: string) {
    super(variable, undefined, `a variable spotter-jobs reads`);
    this.message = `${variable} is not a variable spotter-jobs reads; did you mean ${closest}?`;
  }
}
