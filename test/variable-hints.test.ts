/** A guessed per-kind variable that the kind names differently points at the variable it does read. */
import { describe, expect, it } from 'vitest';
import { configError } from './helpers/config-error.js';

describe('the hint for a kind variable Spotter names its own way', () => {
  it.each([
    ['SPOTTER_JOBS_ENRICHMENT_ENABLED', 'SPOTTER_METADATA_ENABLED'],
    ['SPOTTER_JOBS_ENRICHMENT_SCHEDULE', 'SPOTTER_METADATA_INTERVAL'],
    ['SPOTTER_JOBS_SYNC_SCHEDULE', 'SPOTTER_SYNC_INTERVAL'],
    ['SPOTTER_JOBS_WRITEBACK_SCHEDULE', 'SPOTTER_PLAYLIST_SYNC_SYNC_INTERVAL'],
  ])('%s suggests %s', (guessed, real) => {
    const err = configError({ [guessed]: 'false' });
    expect(err.variable).toBe(guessed);
    expect(err.message).toBe(`${guessed} is not a variable spotter-jobs reads; did you mean ${real}?`);
  });
  it('still suggests the nearest name for a plain misspelling', () => {
    expect(configError({ SPOTTER_JOBS_ENRICHMENT_OFSET: '1s' }).message).toContain('did you mean SPOTTER_JOBS_ENRICHMENT_OFFSET?');
  });
});
