import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/helpers/global-setup.ts'],
    // After every file: no key left under its prefixes, no socket, child or timer left open.
    setupFiles: ['test/helpers/leak-check.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Tests spawn real processes and Redis servers; two cores do not like many at once.
    maxWorkers: 2,
    fileParallelism: true,
  },
});
