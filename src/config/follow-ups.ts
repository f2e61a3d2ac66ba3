/**
 * Which kinds a kind's jobs may add (`followUps`, `SPOTTER_JOBS_<KIND>_FOLLOW_UPS`). A module's
 * handlers are the operator's own code, so a kind that lists nothing may add any kind there. In HTTP
 * mode the children come from a remote answer instead: a kind that lists nothing may add the kinds of
 * the catalog file, but none of Spotter's own three, so no answer can queue sync, enrichment or
 * write-back jobs unless a kind says so.
 */
import { z } from 'zod';
import { KIND_NAME } from './catalog.js';
import { ConfigError } from './errors.js';
import type { Declarations, KindConfig } from './kind-config.js';

/** `any`, `none`, or kind names separated by commas; `any` reads as undefined (no restriction). */
export const followUpsField = z.string().transform((s, ctx): readonly string[] | undefined => {
  const t = s.trim();
  if (t === 'any') return undefined;
  if (t === '' || t === 'none') return [];
  const names = t.split(',').map((n) => n.trim());
  if (names.every((n) => KIND_NAME.test(n))) return names;
  ctx.addIssue({ code: 'custom', message: 'kind names separated by commas, none, or any' });
  return z.NEVER;
});

/** The follow-ups a kind gets when neither its declaration nor its variable names any (see above). */
export function defaultFollowUps(catalog: Declarations, httpMode: boolean): string | undefined {
  if (!httpMode) return undefined;
  const own = Object.keys(catalog).filter((name) => catalog[name]?.source !== undefined);
  return own.length > 0 ? own.join(',') : 'none';
}

/**
 * A follow-up set by a variable must be a kind of the catalog (declared ones were checked with the
 * declarations, and the HTTP default lists only catalog kinds).
 */
export function checkFollowUps(kinds: Readonly<Record<string, KindConfig>>): void {
  for (const kind of Object.values(kinds)) {
    const unknown = kind.followUps?.find((f) => !Object.hasOwn(kinds, f));
    if (unknown !== undefined) {
      throw new ConfigError(
        `SPOTTER_JOBS_${kind.envStem}_FOLLOW_UPS`,
        kind.followUps?.join(','),
        `kinds of the catalog (${Object.keys(kinds).join(', ')}), none, or any; "${unknown}" is not one`,
      );
    }
  }
}
