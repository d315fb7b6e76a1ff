import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    // Tests talk to real Redis/PostgreSQL/Chromium on a 2-core machine; a little less parallelism keeps timings honest.
    maxWorkers: 2,
  },
});
