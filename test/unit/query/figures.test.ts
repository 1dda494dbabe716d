import { describe, expect, it } from 'vitest';
import { type Counters, emptyCounters } from '../../../functions/domain/counters';
import { errorsBody } from '../../../functions/domain/errors-report';
import { modelsBody, signedTotalsPerModel } from '../../../functions/domain/models';
import { emptyTotals, type Totals } from '../../../functions/domain/rates';
import { bucketAttribute } from '../../../functions/domain/sketch';
import { summaryBody } from '../../../functions/domain/summary';

function totals(overrides: Partial<Counters>, durations: number[] = []): Totals {
  const histogram = new Map<string, number>();
  for (const duration of durations) {
    const bucket = bucketAttribute(duration);
    histogram.set(bucket, (histogram.get(bucket) ?? 0) + 1);
  }
  return { counters: { ...emptyCounters(), ...overrides }, histogram };
}

const period = { from: '2026-11-01T00:00:00Z', to: '2026-11-08T00:00:00Z', tz: 'UTC' };

describe('summaryBody', () => {
  it('answers an empty range with zeros and null rates, never NaN', () => {
    const body = summaryBody(period, emptyTotals(), emptyTotals());
    expect(body).toMatchObject({
      executions: 0,
      successRate: null,
      cost: { totalUsd: 0, perRunUsd: null, perSuccessUsd: null, runsWithUnknownCost: 0 },
      cacheHitRate: null,
      durationMs: { avg: null, p50: null, p95: null, p99: null },
      llmCalls: { total: 0, perRun: null },
      filesModified: { total: 0, perSuccessfulRun: null },
      previous: {
        executions: 0,
        successRate: null,
        costPerRunUsd: null,
        durationAvgMs: null,
        durationP95Ms: null,
        costPerSuccessUsd: null,
        cacheHitRate: null,
        llmCallsPerRun: null,
        filesModifiedPerSuccessfulRun: null,
      },
    });
    expect(JSON.stringify(body)).not.toMatch(/NaN|Infinity/);
  });

  it('gives the previous period the figures the dashboard compares against', () => {
    const previous = totals({
      executions: 4,
      successes: 2,
      failures: 2,
      costNanos: 1_000_000_000n,
      inputTokens: 60,
      cacheReadTokens: 30,
      cacheWriteTokens: 10,
      llmCalls: 10,
      filesModified: 6,
    });
    const span = { from: '2026-10-25T00:00:00Z', to: '2026-10-31T16:00:00Z' };
    expect(summaryBody(period, emptyTotals(), previous, span).previous).toMatchObject({
      ...span,
      executions: 4,
      successRate: 0.5,
      costTotalUsd: 1,
      costPerRunUsd: 0.25,
      costPerSuccessUsd: 0.5,
      cacheHitRate: 0.3,
      llmCallsPerRun: 2.5,
      filesModifiedPerSuccessfulRun: 3,
    });
  });

  it('gives a success rate of 0 and no cost per success when every run failed', () => {
    const failed = totals(
      { executions: 4, failures: 4, costNanos: 2_000_000_000n, durationMsSum: 4000 },
      [1000, 1000, 1000, 1000],
    );
    const body = summaryBody(period, failed, emptyTotals());
    expect(body.successRate).toBe(0);
    expect(body.cost).toEqual({
      totalUsd: 2,
      reportedUsd: 2,
      estimatedUsd: 0,
      perRunUsd: 0.5,
      perSuccessUsd: null,
      runsWithEstimatedCost: 0,
      runsWithUnknownCost: 0,
    });
    expect(body.filesModified.perSuccessfulRun).toBeNull();
    expect(body.durationMs.avg).toBe(1000);
  });

  it('counts runs of unknown cost as zero cost, and reports how many there were', () => {
    const body = summaryBody(
      period,
      totals({ executions: 3, successes: 3, unknownCostRuns: 3 }),
      emptyTotals(),
    );
    expect(body.cost).toEqual({
      totalUsd: 0,
      reportedUsd: 0,
      estimatedUsd: 0,
      perRunUsd: 0,
      perSuccessUsd: 0,
      runsWithEstimatedCost: 0,
      runsWithUnknownCost: 3,
    });
  });

  it('adds estimated to reported cost in the total and the rates, and shows both apart', () => {
    const counters = {
      executions: 4,
      successes: 2,
      failures: 2,
      costNanos: 1_000_000_001n,
      estimatedCostNanos: 200_000_003n,
      estimatedCostRuns: 2,
      unknownCostRuns: 1,
    };
    const body = summaryBody(period, totals(counters), totals(counters));
    expect(body.cost).toEqual({
      totalUsd: 1.200000004,
      reportedUsd: 1.000000001,
      estimatedUsd: 0.200000003,
      perRunUsd: 0.300000001,
      perSuccessUsd: 0.600000002,
      runsWithEstimatedCost: 2,
      runsWithUnknownCost: 1,
    });
    expect(body.previous).toMatchObject({
      costTotalUsd: 1.200000004,
      costPerRunUsd: 0.300000001,
      costPerSuccessUsd: 0.600000002,
    });
  });

  it('keeps cost sums exact', () => {
    const body = summaryBody(
      period,
      totals({ executions: 3, successes: 3, costNanos: 300_000_000n }),
      emptyTotals(),
    );
    expect(body.cost.totalUsd).toBe(0.3);
    expect(body.cost.perRunUsd).toBe(0.1);
  });
});

describe('modelsBody', () => {
  it('sorts by executions and leaves out models without runs unless asked for', () => {
    const perModel = signedTotalsPerModel(
      ['old', 'a', 'b'],
      [
        { model: 'a', bucket: '2026-11-01', ...totals({ executions: 2, successes: 2 }) },
        { model: 'b', bucket: '2026-11-01', ...totals({ executions: 5, successes: 4, failures: 1 }) },
      ],
      [{ key: '2026-11-01', sign: 1 }],
    );
    expect(modelsBody(perModel, []).models.map((row) => row.model)).toEqual(['b', 'a']);
    expect(modelsBody(perModel, ['old']).models.map((row) => [row.model, row.successRate])).toEqual([
      ['b', 0.8],
      ['a', 1],
      ['old', null],
    ]);
  });

  it('shows the reported and estimated cost of each model apart, costUsd being their sum', () => {
    const perModel = signedTotalsPerModel(
      ['a'],
      [
        {
          model: 'a',
          bucket: '2026-11-01',
          ...totals({ executions: 3, successes: 3, costNanos: 500_000_000n, unknownCostRuns: 1 }),
        },
        {
          model: 'a',
          bucket: '2026-11-02',
          ...totals({ executions: 1, successes: 1, estimatedCostNanos: 250_000_000n, estimatedCostRuns: 1 }),
        },
      ],
      [
        { key: '2026-11-01', sign: 1 },
        { key: '2026-11-02', sign: 1 },
      ],
    );
    const [row] = modelsBody(perModel, []).models;
    expect(row).toMatchObject({
      costUsd: 0.75,
      costPerRunUsd: 0.1875,
      cost: {
        totalUsd: 0.75,
        reportedUsd: 0.5,
        estimatedUsd: 0.25,
        runsWithEstimatedCost: 1,
        runsWithUnknownCost: 1,
      },
    });
  });
});

describe('errorsBody', () => {
  it('gives the top N with share, the rest as other, and failure rates by model', () => {
    const body = errorsBody(
      [
        { model: 'a', errorType: 'Timeout', count: 5 },
        { model: 'b', errorType: 'Timeout', count: 1 },
        { model: 'a', errorType: 'TestFailure', count: 3 },
        { model: 'b', errorType: 'Unknown', count: 1 },
      ],
      [
        { model: 'a', executions: 20, failures: 8 },
        { model: 'b', executions: 4, failures: 2 },
        { model: 'idle', executions: 0, failures: 0 },
      ],
      2,
    );
    expect(body).toEqual({
      totalFailures: 10,
      errors: [
        { errorType: 'Timeout', count: 6, share: 0.6 },
        { errorType: 'TestFailure', count: 3, share: 0.3 },
      ],
      other: { count: 1 },
      byModel: [
        { model: 'a', failures: 8, executions: 20, failureRate: 0.4 },
        { model: 'b', failures: 2, executions: 4, failureRate: 0.5 },
      ],
    });
  });

  it('counts failures of types the aggregates do not list, and types netting below zero, in other', () => {
    const body = errorsBody(
      [
        { model: 'a', errorType: 'Timeout', count: 4 },
        { model: 'a', errorType: 'Folded', count: -1 },
      ],
      [{ model: 'a', executions: 10, failures: 10 }],
      5,
      7,
    );
    expect(body.totalFailures).toBe(10);
    expect(body.errors).toEqual([{ errorType: 'Timeout', count: 4, share: 0.4 }]);
    expect(body.other).toEqual({ count: 6 });
  });

  it('has no errors and no NaN shares without failures', () => {
    expect(errorsBody([], [{ model: 'a', executions: 3, failures: 0 }], 10)).toEqual({
      totalFailures: 0,
      errors: [],
      other: { count: 0 },
      byModel: [{ model: 'a', failures: 0, executions: 3, failureRate: 0 }],
    });
  });
});
