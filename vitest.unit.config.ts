import { defineConfig } from 'vitest/config';

/**
 * `npm run test:unit`: tests/unit alone. They need no Redis, PostgreSQL or Chromium, so no preflight:
 * they run in seconds anywhere. tests/unit/unit-isolation.test.ts keeps them so.
 */
export default defineConfig({
  test: {
    include: ['tests/unit/**/*.test.ts'],
    testTimeout: 20_000,
    // The machine's two cores are shared with other work.
    maxWorkers: 2,
  },
});
