import type { Bucket, Summary } from '../../../frontend/src/api-types';
import { cacheHitRateChart } from '../../../frontend/src/charts/efficiency';
import { failuresChart } from '../../../frontend/src/charts/errors';
import { overviewCharts } from '../../../frontend/src/charts/overview';

/** The whole chart table, by name: every time chart of the three tabs. */
export const timeCharts = { ...overviewCharts, cacheHitRate: cacheHitRateChart, failures: failuresChart };

/** A bucket with every field; override what a test is about. */
export function bucket(start: string, override: Partial<Bucket> = {}): Bucket {
  return {
    start,
    executions: 10,
    successes: 9,
    failures: 1,
    successRate: 0.9,
    costUsd: 1,
    costPerRunUsd: 0.1,
    tokens: { input: 100, output: 10, cacheRead: 50, cacheWrite: 0, total: 160 },
    cacheHitRate: 50 / 150,
    durationMs: { avg: 60_000, p50: 50_000, p95: 120_000, p99: 150_000 },
    llmCalls: 40,
    anomalies: [],
    baselines: {},
    ...override,
  };
}

export const emptyBucket = (start: string) =>
  bucket(start, {
    executions: 0,
    successes: 0,
    failures: 0,
    successRate: null,
    costUsd: 0,
    costPerRunUsd: null,
    tokens: { input: 0, output: 0, cacheRead: 0, cacheWrite: 0, total: 0 },
    cacheHitRate: null,
    durationMs: { avg: null, p50: null, p95: null, p99: null },
    llmCalls: 0,
  });

export function summary(override: Partial<Summary> = {}): Summary {
  return {
    from: '2026-11-01',
    to: '2026-11-07',
    tz: 'UTC',
    executions: 100,
    successes: 90,
    failures: 10,
    successRate: 0.9,
    cost: {
      totalUsd: 10,
      reportedUsd: 10,
      estimatedUsd: 0,
      perRunUsd: 0.1,
      perSuccessUsd: 0.111,
      runsWithEstimatedCost: 0,
      runsWithUnknownCost: 0,
    },
    tokens: { input: 1, output: 1, cacheRead: 1, cacheWrite: 1, total: 4 },
    cacheHitRate: 0.3,
    durationMs: { avg: 1, p50: 1, p95: 1, p99: 1 },
    llmCalls: { total: 1, perRun: 1 },
    toolCalls: { total: 1, perRun: 1 },
    filesModified: { total: 1, perSuccessfulRun: 1 },
    previous: {
      executions: 1,
      successRate: 1,
      costTotalUsd: 1,
      costPerRunUsd: 1,
      durationAvgMs: 1,
      durationP95Ms: 1,
      costPerSuccessUsd: 1,
      cacheHitRate: 0.3,
      llmCallsPerRun: 1,
      filesModifiedPerSuccessfulRun: 1,
    },
    ...override,
  };
}
