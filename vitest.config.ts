import { defineConfig } from 'vitest/config';

// "unit" runs generators and the built CLI in temp folders; "e2e" shares one generated and
// installed sample project (global setup) and starts real services on free ports.
export default defineConfig({
  test: {
    pool: 'forks',
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/spec/**/*.test.ts', 'test/generators/**/*.test.ts', 'test/cli/**/*.test.ts', 'test/runtime/**/*.test.ts', 'test/simulate/**/*.test.ts'],
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          globalSetup: ['test/global-setup.ts'],
          // generous for a loaded 2-core CI machine
          testTimeout: 180_000,
          hookTimeout: 300_000,
        },
      },
    ],
  },
});
