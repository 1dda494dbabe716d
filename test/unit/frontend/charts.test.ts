import { describe, expect, it } from 'vitest';
import { chartModel, chartOptions } from '../../../frontend/src/chart-kit';
import { P95_MIN_RUNS } from '../../../frontend/src/charts/overview';
import { palettes } from '../../../frontend/src/theme';
import { bucket, emptyBucket, timeCharts } from './fixtures';

const context = { granularity: 'day' as const, tz: 'UTC' };
const model = (kind: keyof typeof timeCharts, buckets: Parameters<typeof chartModel>[1], nowMs?: number) =>
  chartModel(timeCharts[kind], buckets, nowMs === undefined ? context : { ...context, nowMs });

describe('the chart table', () => {
  it('gives every chart as many options series as data columns, marks included', () => {
    const buckets = [bucket('2026-11-01T00:00:00Z'), bucket('2026-11-02T00:00:00Z')];
    for (const kind of Object.keys(timeCharts) as (keyof typeof timeCharts)[]) {
      const source = { current: model(kind, buckets) };
      const options = chartOptions(timeCharts[kind], palettes.light, 'UTC', 'day', source);
      expect(options.series.length, kind).toBe(source.current.data.length);
      expect(source.current.csvRows[0]?.length, kind).toBe(source.current.csvHeader.length);
    }
  });

  it('marks the bucket still in progress as "so far" and never flags it as an anomaly', () => {
    const buckets = [
      bucket('2026-11-01T00:00:00Z', { anomalies: ['successRate'], baselines: { successRate: 0.97 } }),
      bucket('2026-11-02T00:00:00Z', {
        executions: 2,
        successes: 1,
        failures: 1,
        anomalies: ['successRate'],
      }),
    ];
    const nowMs = Date.parse('2026-11-02T09:30:00Z');
    const failures = model('failures', buckets, nowMs);
    expect(failures.partial).toBe(1);
    expect(failures.data[2]).toEqual([1, null]);
    expect(failures.csvRows.map((row) => row.at(-1))).toEqual(['true', 'false']);
    expect(failures.summary).toContain('Anomalies: Nov 1: success rate 90.0 %, baseline 97.0 %.');
    expect(failures.summary).not.toContain('Nov 2');
    const busyToday = [buckets[0]!, bucket('2026-11-02T00:00:00Z', { executions: 20, successes: 19 })];
    expect(model('executions', busyToday, nowMs).summary).toContain('highest on Nov 2 (so far) with 20');
  });

  it('has no partial bucket once the last one has ended', () => {
    const failures = model(
      'failures',
      [bucket('2026-11-01T00:00:00Z', { anomalies: ['successRate'] })],
      Date.parse('2026-11-02T00:00:00Z'),
    );
    expect(failures.partial).toBeNull();
    expect(failures.data[2]).toEqual([1]);
  });

  it('puts each anomaly on the series of its own figure, with value and baseline', () => {
    const buckets = [
      bucket('2026-11-01T00:00:00Z'),
      bucket('2026-11-02T00:00:00Z', { costUsd: 9, anomalies: ['costUsd'], baselines: { costUsd: 1.2 } }),
    ];
    const cost = model('cost', buckets);
    // xs, total cost, its anomaly marks, cost per run.
    expect(cost.data[2]).toEqual([null, 9]);
    expect(cost.anomalies).toEqual(['Nov 2: cost $9.00, baseline $1.20']);
    // Not on the failure trend, not on the executions chart.
    expect(model('failures', buckets).data[2]).toEqual([null, null]);
    expect(model('failures', buckets).anomalies).toEqual([]);
    expect(model('executions', buckets).data[2]).toEqual([null, null]);

    const source = { current: cost };
    const options = chartOptions(timeCharts.cost, palettes.light, 'UTC', 'day', source);
    const marks = options.series[2]!;
    expect(marks.label).toBe('Anomaly');
    const legend = marks.value as (u: unknown, v: number | null, s: number, i: number | null) => string;
    expect(legend(null, 9, 2, 1)).toBe('cost $9.00, baseline $1.20');
    expect(legend(null, null, 2, 0)).toBe('none');
  });

  it('marks buckets with too few runs for a p95', () => {
    const buckets = [
      bucket('2026-11-01T00:00:00Z', { executions: 40 }),
      bucket('2026-11-02T00:00:00Z', { executions: 3 }),
      emptyBucket('2026-11-03T00:00:00Z'),
    ];
    const duration = model('duration', buckets);
    const labels = chartOptions(timeCharts.duration, palettes.light, 'UTC', 'day', {
      current: duration,
    }).series.map((s) => s.label);
    const few = labels.indexOf('Few runs');
    expect(labels[few - 1]).toBe('p95');
    expect(duration.data[few]).toEqual([null, 120_000, null]);
    expect(duration.summary).toContain(`The p95 of 1 day rests on fewer than ${P95_MIN_RUNS} runs (marked).`);
  });

  it('maps buckets to unix seconds and stacks failures on successes', () => {
    const executions = model('executions', [
      bucket('2026-11-01T00:00:00Z'),
      emptyBucket('2026-11-02T00:00:00Z'),
    ]);
    expect(executions.data[0]).toEqual([1_793_491_200, 1_793_577_600]);
    expect(executions.data[1]).toEqual([10, 0]);
    expect(executions.data.at(-1)).toEqual([9, 0]);
    expect(executions.csvHeader).toEqual(['bucket_start', 'executions', 'successes', 'failures', 'complete']);
    expect(executions.csvRows[0]).toEqual(['2026-11-01T00:00:00Z', 10, 9, 1, 'true']);
    expect(executions.summary).toBe('10 runs, 1 failed (10.0 %); highest on Nov 1 with 10. No anomalies.');
  });

  it('keeps empty buckets as gaps (null), not zeros, in rates', () => {
    const rate = model('successRate', [bucket('2026-11-01T00:00:00Z'), emptyBucket('2026-11-02T00:00:00Z')]);
    expect(rate.data[1]).toEqual([0.9, null]);
    expect(rate.data.at(-1)).toEqual([0.85, 0.85]);
    expect(rate.summary).toBe(
      'Success rate stayed at 90.0 %. Below the 85 % threshold in 0 of 1 day with runs. No anomalies.',
    );
  });

  it('shows an all-failure range as 0 %, not NaN', () => {
    const rate = model('successRate', [
      bucket('2026-11-01T00:00:00Z', { successes: 0, failures: 10, successRate: 0 }),
    ]);
    expect(rate.summary).toContain('0 %');
    expect(rate.summary).not.toContain('NaN');
  });

  it('puts total cost and cost per run on separate series', () => {
    const cost = model('cost', [
      bucket('2026-11-01T00:00:00Z'),
      bucket('2026-11-02T00:00:00Z', { costUsd: 3, costPerRunUsd: 0.3 }),
    ]);
    expect([cost.data[1], cost.data[3]]).toEqual([
      [1, 3],
      [0.1, 0.3],
    ]);
    expect(cost.summary).toBe(
      'Total cost $4.00; highest on Nov 2 with $3.00. Cost per run ranged from $0.100 (Nov 1) to $0.300 (Nov 2). No anomalies.',
    );
  });

  it('says "No data." for a range without runs', () => {
    for (const kind of Object.keys(timeCharts) as (keyof typeof timeCharts)[])
      expect(model(kind, [emptyBucket('2026-11-01T00:00:00Z')]).summary, kind).toMatch(/^No (data|runs)\.$/);
  });
});
