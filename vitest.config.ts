import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/setup.ts'],
    // hang guards, not timings: a loaded 2-core machine runs the 40-process tests several times slower than an idle one
    testTimeout: 300_000,
    hookTimeout: 300_000,
    // integration and e2e tests spawn many git processes; two cores here
    pool: 'forks',
    maxWorkers: 2,
  },
});
