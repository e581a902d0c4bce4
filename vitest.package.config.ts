import { defineConfig } from 'vitest/config';

// The package as a user installs it: npm pack of the built dist/ (npm run test:package builds it first).
export default defineConfig({
  test: {
    include: ['test/package/**/*.test.ts'],
    testTimeout: 300_000,
    hookTimeout: 300_000,
    pool: 'forks',
  },
});
