import { defineConfig } from 'vitest/config';

/**
 * The fault suite (`npm run test:faults`): real redis-server, PostgreSQL and app processes that are
 * killed, paused and stopped. One file at a time, so timings are not skewed by a neighbour's load.
 */
export default defineConfig({
  test: {
    include: ['tests/faults/**/*.fault.ts'],
    testTimeout: 120_000,
    hookTimeout: 90_000,
    fileParallelism: false,
    maxWorkers: 1,
  },
});
