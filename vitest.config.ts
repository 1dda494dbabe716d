import { defineConfig } from 'vitest/config';

/**
 * The long reliability suites (test/reliability/) run only under
 * `npm run test:reliability`; their fast versions live in test/integration/.
 */
const reliability = process.env.npm_lifecycle_event === 'test:reliability' || process.env.RELIABILITY === '1';

/**
 * One runner, four projects that mirror test/. Integration and e2e tests start
 * DynamoDB Local (and Chromium), so they run one file at a time on a small
 * machine and get generous timeouts; timing is never asserted, only behaviour.
 */
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          environment: 'node',
          // Property tests run hundreds of generated cases; on a loaded 2-core
          // machine vitest's 5 s default fails them for time, which they never assert.
          testTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'infra',
          include: ['test/infra/**/*.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          testTimeout: 180_000,
          hookTimeout: 180_000,
          fileParallelism: false,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          testTimeout: 240_000,
          hookTimeout: 300_000,
          fileParallelism: false,
        },
      },
      ...(reliability
        ? [
            {
              test: {
                name: 'reliability',
                include: ['test/reliability/**/*.test.ts'],
                testTimeout: 1_200_000,
                hookTimeout: 300_000,
                fileParallelism: false,
              },
            },
          ]
        : []),
    ],
  },
});
