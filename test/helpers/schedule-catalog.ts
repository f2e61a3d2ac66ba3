/** A catalog with a user kind and an item kind for subject schedules, and a harness-backed store. */
import { builtinCatalog } from '../../src/config/catalog-source.js';
import type { Declarations } from '../../src/config/kind-config.js';

export const scheduleCatalog: Declarations = {
  ...builtinCatalog(),
  remind: { decl: { scope: 'user' }, source: 'test' },
  water: {
    decl: { scope: 'item', schema: { type: 'object', properties: { litres: { type: 'number' } }, additionalProperties: false } },
    source: 'test',
  },
  chore: { decl: { scope: 'user', schedule: '1h', catchUp: 'skip' }, source: 'test' },
  tidy: { decl: { scope: 'global', schedule: '1h' }, source: 'test' },
  note: { decl: { scope: 'item' }, source: 'test' },
};
