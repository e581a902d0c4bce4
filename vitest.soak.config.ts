import { defineConfig } from 'vitest/config';

// npm run soak: 10^8 random operations under the invariant checker (SOAK_OPS to change, SOAK_SEED for another run).
export default defineConfig({
  test: {
    include: ['test/soak/**/*.soak.ts'],
    testTimeout: 0,
    pool: 'forks',
  },
});
