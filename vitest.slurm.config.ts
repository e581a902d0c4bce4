import { defineConfig } from 'vitest/config';

// The Slurm test: installs Debian's slurm-wlm and munge when missing, runs the daemons on this machine and
// submits a sweep's job array (npm run test:slurm; .ci/run calls it).
export default defineConfig({
  test: {
    include: ['test/slurm/**/*.test.ts'],
    testTimeout: 600_000,
    hookTimeout: 600_000,
    pool: 'forks',
    fileParallelism: false,
  },
});
