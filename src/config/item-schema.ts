/** An item kind's schema, compiled once into a checker of an item's data. */
import { z } from 'zod';
import { ConfigError } from './errors.js';
import type { KindConfig } from './kind-config.js';

/** Compiles a kind's schema into a checker: a Standard Schema (zod, valibot, …) or a JSON Schema. */
export function compileSchema(schema: unknown, where: string): KindConfig['checkData'] {
  if (schema === undefined) return undefined;
  const std = (schema as { '~standard'?: { validate?: unknown } } | null)?.['~standard'];
  if (std && typeof std.validate === 'function') {
    const validate = std.validate as (
      v: unknown,
    ) => { issues?: ReadonlyArray<{ message: string; path?: ReadonlyArray<unknown> }> } | Promise<unknown>;
    return (data) => {
      const r = validate(data);
      if (r instanceof Promise) return 'the schema validates asynchronously; only synchronous schemas are supported';
      const i = r.issues?.[0];
      return i
        ? `${(i.path ?? []).map((p) => (typeof p === 'object' && p ? (p as { key: unknown }).key : p)).join('.') || 'data'}: ${i.message}`
        : undefined;
    };
  }
  let zs: z.ZodType;
  try {
    zs = z.fromJSONSchema(schema as Parameters<typeof z.fromJSONSchema>[0]);
  } catch (err) {
    throw new ConfigError(where, JSON.stringify(schema)?.slice(0, 200), `a JSON Schema or a Standard Schema (${(err as Error).message})`);
  }
  return (data) => {
    const r = zs.safeParse(data);
    if (r.success) return undefined;
    const i = r.error.issues[0];
    return `${i?.path.join('.') || 'data'}: ${i?.message ?? 'does not match the schema'}`;
  };
}
