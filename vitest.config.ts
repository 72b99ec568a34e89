import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // integration and e2e tests spawn many git processes; two cores here
    pool: 'forks',
    maxWorkers: 2,
  },
});
