import { defineConfig } from 'vitest/config';

// `npm run test:faults`: real processes, real signals, real redis-server restarts. One file at a time,
// so the figures are not skewed by another suite competing for the two cores.
export default defineConfig({
  test: {
    include: ['test/faults/**/*.fault.ts'],
    globalSetup: ['test/faults/summary.ts'],
    // After every file: no key left under its prefixes, no socket, child or timer left open.
    setupFiles: ['test/helpers/leak-check.ts'],
    testTimeout: 180_000,
    hookTimeout: 60_000,
    fileParallelism: false,
    maxWorkers: 1,
  },
});
