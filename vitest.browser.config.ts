import { defineConfig } from 'vitest/config';

// The browser tests: a headless Chromium drives the built page (npm run test:browser builds it first).
export default defineConfig({
  test: {
    include: ['test/browser/**/*.test.ts'],
    testTimeout: 180_000,
    hookTimeout: 180_000,
    pool: 'forks',
    fileParallelism: false,
  },
});
