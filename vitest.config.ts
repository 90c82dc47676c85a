import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Native addons and worker threads are safest in separate processes.
    pool: 'forks',
    testTimeout: 120_000,
  },
});
