import { describe, expect, it } from 'vitest';
import { correlation, scatterModel, timeChartModel } from '../../../frontend/src/series';
import { bucket, emptyBucket } from './fixtures';

const context = { granularity: 'day' as const, tz: 'UTC' };

describe('timeChartModel', () => {
  it('marks the bucket still in progress as "so far" and never flags it as an anomaly', () => {
    const buckets = [
      bucket('2026-11-01T00:00:00Z', { anomalies: ['executions'] }),
      bucket('2026-11-02T00:00:00Z', { executions: 2, successes: 1, failures: 1, anomalies: ['executions'] }),
    ];
    const nowMs = Date.parse('2026-11-02T09:30:00Z');
    const model = timeChartModel('failures', buckets, { ...context, nowMs });
    expect(model.partial).toBe(1);
    expect(model.data[2]).toEqual([1, null]);
    expect(model.summary).toContain('Anomalies: Nov 1 (executions).');
    expect(model.summary).not.toContain('Nov 2');
    const busyToday = [buckets[0]!, bucket('2026-11-02T00:00:00Z', { executions: 20, successes: 19 })];
    const executions = timeChartModel('executions', busyToday, { ...context, nowMs });
    expect(executions.summary).toContain('highest on Nov 2 (so far) with 20');
  });

  it('has no partial bucket once the last one has ended', () => {
    const buckets = [bucket('2026-11-01T00:00:00Z', { anomalies: ['executions'] })];
    const model = timeChartModel('failures', buckets, {
      ...context,
      nowMs: Date.parse('2026-11-02T00:00:00Z'),
    });
    expect(model.partial).toBeNull();
    expect(model.data[2]).toEqual([10 - 9]);
  });

  it('maps buckets to unix seconds and stacks failures on successes', () => {
    const model = timeChartModel(
      'executions',
      [bucket('2026-11-01T00:00:00Z'), emptyBucket('2026-11-02T00:00:00Z')],
      context,
    );
    expect(model.data).toEqual([
      [1_793_491_200, 1_793_577_600],
      [10, 0],
      [9, 0],
    ]);
    expect(model.csvHeader).toEqual(['bucket_start', 'executions', 'successes', 'failures']);
    expect(model.csvRows[0]).toEqual(['2026-11-01T00:00:00Z', 10, 9, 1]);
    expect(model.summary).toBe('10 runs, 1 failed (10.0 %); highest on Nov 1 with 10.');
  });

  it('keeps empty buckets as gaps (null), not zeros, in rates', () => {
    const model = timeChartModel(
      'successRate',
      [bucket('2026-11-01T00:00:00Z'), emptyBucket('2026-11-02T00:00:00Z')],
      context,
    );
    expect(model.data[1]).toEqual([0.9, null]);
    expect(model.data[2]).toEqual([0.85, 0.85]);
    expect(model.summary).toBe(
      'Success rate stayed at 90.0 %. Below the 85 % threshold in 0 of 1 day with runs.',
    );
  });

  it('shows an all-failure range as 0 %, not NaN', () => {
    const model = timeChartModel(
      'successRate',
      [bucket('2026-11-01T00:00:00Z', { successes: 0, failures: 10, successRate: 0 })],
      context,
    );
    expect(model.summary).toContain('0 %');
    expect(model.summary).not.toContain('NaN');
  });

  it('puts total cost and cost per run on separate series', () => {
    const model = timeChartModel(
      'cost',
      [bucket('2026-11-01T00:00:00Z'), bucket('2026-11-02T00:00:00Z', { costUsd: 3, costPerRunUsd: 0.3 })],
      context,
    );
    expect(model.data.slice(1)).toEqual([
      [1, 3],
      [0.1, 0.3],
    ]);
    expect(model.summary).toBe(
      'Total cost $4.00; highest on Nov 2 with $3.00. Cost per run ranged from $0.100 (Nov 1) to $0.300 (Nov 2).',
    );
  });

  it('marks anomalous buckets on the failure trend and names them', () => {
    const model = timeChartModel(
      'failures',
      [
        bucket('2026-11-01T00:00:00Z'),
        bucket('2026-11-02T00:00:00Z', { failures: 6, anomalies: ['successRate'] }),
      ],
      context,
    );
    expect(model.data[2]).toEqual([null, 6]);
    expect(model.summary).toContain('Anomalies: Nov 2 (successRate).');
  });

  it('says "No data." for a range without runs', () => {
    for (const kind of [
      'executions',
      'successRate',
      'cost',
      'tokens',
      'duration',
      'cacheHitRate',
      'failures',
    ] as const) {
      expect(timeChartModel(kind, [emptyBucket('2026-11-01T00:00:00Z')], context).summary).toMatch(
        /^No (data|runs)\.$/,
      );
    }
  });
});

describe('scatterModel', () => {
  it('sorts buckets with runs by LLM calls and reports the correlation', () => {
    const model = scatterModel([
      bucket('2026-11-01T00:00:00Z', { llmCalls: 30, costUsd: 3 }),
      emptyBucket('2026-11-02T00:00:00Z'),
      bucket('2026-11-03T00:00:00Z', { llmCalls: 10, costUsd: 1 }),
    ]);
    expect(model.data).toEqual([
      [10, 30],
      [1, 3],
    ]);
    expect(model.buckets.map((b) => b.start)).toEqual(['2026-11-03T00:00:00Z', '2026-11-01T00:00:00Z']);
    expect(model.summary).toBe('2 buckets. Correlation between LLM calls and cost: 1.00 (strong).');
  });
});

describe('correlation', () => {
  it('returns null without spread', () => {
    expect(correlation([1, 1], [2, 3])).toBeNull();
    expect(correlation([1, 2, 3], [3, 2, 1])).toBeCloseTo(-1);
  });
});
