import { defineConfig } from 'vitest/config';

// npm run fuzz: the fuzz suite of `npm test`, 20 times longer and on a new seed each time (printed; FUZZ_SEED and
// FUZZ_SCALE override both).
export default defineConfig({
  test: {
    include: ['test/fuzz.*.test.ts'],
    testTimeout: 0,
    hookTimeout: 120_000,
    pool: 'forks',
    env: {
      FUZZ_SCALE: process.env['FUZZ_SCALE'] ?? '20',
      FUZZ_SEED: process.env['FUZZ_SEED'] ?? String(Date.now() % 2 ** 31),
    },
  },
});
