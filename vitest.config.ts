import { defineConfig } from 'vitest/config';

// "unit" runs generators and the built CLI in temp folders; "e2e" shares one generated and
// installed sample project (global setup) and starts real services on free ports.
export default defineConfig({
  test: {
    pool: 'forks',
    // One file at a time. The e2e files never collide on ports or folders, but many of
    // them measure latency and availability under load; on a 2-core machine a load test
    // in one file (autocannon flat out) starves the system another file is timing, which
    // shows up as 5-second stalls that are the machine's, not the code's.
    fileParallelism: false,
    // Many tests measure real latency, timing and availability on a 2-core machine, where
    // another process scheduled at the wrong moment can push one reading past its bound: a
    // failed test gets one more try. A test that passes only on it is named at the end of
    // the run with what its first try said (test/support/flaky-reporter.ts): seen, not hidden.
    reporters: ['default', './test/support/flaky-reporter.ts'],
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/spec/**/*.test.ts', 'test/support/**/*.test.ts', 'test/monitoring/**/*.test.ts', 'test/patterns/**/*.test.ts', 'test/generators/**/*.test.ts', 'test/cli/**/*.test.ts', 'test/runtime/**/*.test.ts', 'test/simulate/**/*.test.ts'],
          testTimeout: 30_000,
          retry: 1,
          setupFiles: ['test/support/cleanup.ts'],
        },
      },
      {
        // the load engine's schedule and latency judged to the millisecond by a server in
        // its own process: true on a machine that gives them their share of the CPU, not
        // beside other suites (`--project unit` before landing leaves them out)
        test: {
          name: 'timing',
          include: ['test/timing/**/*.test.ts'],
          testTimeout: 30_000,
          retry: 1,
          setupFiles: ['test/support/cleanup.ts'],
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          globalSetup: ['test/global-setup.ts'],
          setupFiles: ['test/support/cleanup.ts'],
          retry: 1,
          // generous for a loaded 2-core CI machine
          testTimeout: 180_000,
          hookTimeout: 300_000,
        },
      },
    ],
  },
});
