/**
 * A module resolution hook, registered before a handler module is imported: `import … from
 * 'spotter-jobs'` in the operator's own handler file (anywhere on disk, with no node_modules of its
 * own) resolves to this running service, so the README's example works as written.
 */
const SELF = new URL('../index.js', import.meta.url).href;

type Next = (specifier: string, context: unknown) => Promise<{ url: string }>;

export async function resolve(specifier: string, context: unknown, next: Next): Promise<{ url: string; shortCircuit?: boolean }> {
  if (specifier === 'spotter-jobs') return { url: SELF, shortCircuit: true };
  return next(specifier, context);
}
