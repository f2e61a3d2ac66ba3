/** The ConfigError that loadConfig throws for `env`, or a test failure when it throws none. */

import { ConfigError } from '../../src/config/errors.js';
import { loadConfig } from '../../src/config/load.js';

export function configError(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}
