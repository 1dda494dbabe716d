import { describe, expect, it } from 'vitest';
import { anomalousFlags, anomalyBaselines, isAnomalous } from '../../../functions/domain/anomalies';
import { emptyCounters } from '../../../functions/domain/counters';
import type { TimeBucket } from '../../../functions/domain/query-range';
import { emptyTotals } from '../../../functions/domain/rates';
import { bucketAttribute } from '../../../functions/domain/sketch';
import { timeseriesBody } from '../../../functions/domain/timeseries';

describe('isAnomalous', () => {
  const steady = [10, 12, 11, 9, 10, 11, 12, 10, 9, 11, 10, 12, 11, 10];

  it('flags a value more than 2σ from the baseline mean, either way', () => {
    expect(isAnomalous(20, steady)).toBe(true);
    expect(isAnomalous(2, steady)).toBe(true);
    expect(isAnomalous(12, steady)).toBe(false);
  });

  it('judges nothing without enough baseline values or without a value', () => {
    expect(isAnomalous(100, [10, 10, 10, null, null, null, null, null])).toBe(false);
    expect(isAnomalous(null, steady)).toBe(false);
  });

  it('flags any change after a perfectly flat baseline, but not float noise', () => {
    expect(isAnomalous(1, Array(14).fill(0))).toBe(true);
    expect(isAnomalous(0.1 + 0.2, Array(14).fill(0.3))).toBe(false);
  });

  it('slides the 14-bucket baseline along the series', () => {
    const values = [...Array(14).fill(5), 5, 50, 5];
    expect(anomalousFlags(values, 14)).toEqual([false, true, false]);
    expect(anomalyBaselines(values, 14)).toEqual([null, 5, null]);
  });

  it('judges nothing before a full baseline after the first bucket with data', () => {
    // Data begins at index 3: the zeros before it are not a baseline.
    const values = [0, 0, 0, ...Array(20).fill(5)];
    values[10] = 50;
    values[20] = 50;
    const flags = anomalousFlags(values, 0, 3);
    expect(flags.slice(0, 17).some(Boolean)).toBe(false);
    expect(flags[20]).toBe(true);
    expect(anomalousFlags(values, 0, -1).some(Boolean)).toBe(false);
  });
});

describe('timeseriesBody', () => {
  /** A time after every bucket of these tests: all have ended. */
  const LATER = Date.UTC(2030, 0, 1);
  const bucket = (index: number): TimeBucket => ({
    startMs: index * 3_600_000,
    endMs: (index + 1) * 3_600_000,
    label: `b${index}`,
  });
  const withExecutions = (executions: number, successes: number) => ({
    counters: { ...emptyCounters(), executions, successes, failures: executions - successes },
    histogram: new Map(),
  });
  /** 14 baseline buckets (0–13) of the same runs, and the range's buckets from 14 on. */
  const steadyBaseline = (executions: number, successes: number) =>
    Array.from({ length: 14 }, (_, index) => ({
      bucket: bucket(index),
      totals: withExecutions(executions, successes),
    }));
  const rangeOf = (...totals: ReturnType<typeof emptyTotals>[]) =>
    totals.map((each, offset) => ({ bucket: bucket(14 + offset), totals: each }));

  it('judges range buckets against baseline buckets it does not return', () => {
    const baseline = steadyBaseline(10, 10);
    const buckets = rangeOf(withExecutions(10, 10), withExecutions(40, 10), emptyTotals());
    const body = timeseriesBody(LATER, 'day', 'UTC', baseline, buckets);
    expect(body.buckets.map((row) => row.start)).toEqual(['b14', 'b15', 'b16']);
    expect(body.buckets[0]?.anomalies).toEqual([]);
    expect(body.buckets[1]?.anomalies).toEqual(['executions', 'successRate']);
    expect(body.buckets[1]?.baselines).toEqual({ executions: 10, successRate: 1 });
    expect(body.buckets[0]?.baselines).toEqual({});
    expect(body.buckets[2]).toMatchObject({ executions: 0, successRate: null, costPerRunUsd: null });
  });

  it('judges no success rate or average duration of a bucket under 10 runs, nor counts one in a baseline', () => {
    const withDuration = (executions: number, successes: number, durationMs: number) => {
      const totals = withExecutions(executions, successes);
      totals.counters.durationMsSum = executions * durationMs;
      return totals;
    };
    const baseline = Array.from({ length: 14 }, (_, index) => ({
      bucket: bucket(index),
      totals: withDuration(20, 18, 60_000),
    }));
    const quiet = { bucket: bucket(14), totals: withDuration(3, 3, 600_000) };
    const body = timeseriesBody(LATER, 'day', 'UTC', baseline, [quiet]);
    // 3 runs against 20: the volume is news; 100 % and 10 min over 3 runs are not.
    expect(body.buckets[0]?.anomalies).toEqual(['executions']);

    // Quiet baseline buckets are no baseline: a busy bucket after them is not judged on its rate.
    const quietNights = Array.from({ length: 14 }, (_, index) => ({
      bucket: bucket(index),
      totals: withDuration(2, index % 2, 60_000),
    }));
    const busy = { bucket: bucket(14), totals: withDuration(40, 40, 60_000) };
    expect(timeseriesBody(LATER, 'day', 'UTC', quietNights, [busy]).buckets[0]?.anomalies).toEqual([
      'executions',
    ]);
  });

  it('flags a rate or an average only past the noise of its own runs', () => {
    /** A bucket of runs, each given by its duration in seconds and whether it succeeded. */
    const runsOf = (runs: [seconds: number, ok: boolean][]) => {
      const totals = withExecutions(runs.length, runs.filter(([, ok]) => ok).length);
      for (const [seconds] of runs) {
        totals.counters.durationMsSum += seconds * 1000;
        const attribute = bucketAttribute(seconds * 1000);
        totals.histogram.set(attribute, (totals.histogram.get(attribute) ?? 0) + 1);
      }
      return totals;
    };
    const repeat = (count: number, run: [number, boolean]) => Array.from({ length: count }, () => run);
    // 14 steady hours: 50 runs of 60 s, 44 to 45 of them successful (88–90 %).
    const baseline = Array.from({ length: 14 }, (_, index) => ({
      bucket: bucket(index),
      totals: runsOf([...repeat(44 + (index % 2), [60, true]), ...repeat(6 - (index % 2), [60, false])]),
    }));
    const judge = (runs: [number, boolean][]) =>
      timeseriesBody(LATER, 'day', 'UTC', baseline, [{ bucket: bucket(14), totals: runsOf(runs) }]).buckets[0]
        ?.anomalies;
    // 8 of 10 (0.8 standard errors of a rate over 10 runs) and one 30-min timeout among 10 (1 standard error): noise.
    expect(judge([...repeat(8, [60, true]), ...repeat(2, [60, false])])).not.toContain('successRate');
    expect(judge([...repeat(9, [60, true]), [1800, true]])).not.toContain('durationMs.avg');
    // 40 of 100, and 100 runs of 4 min: far past the noise of so many runs.
    expect(judge([...repeat(40, [60, true]), ...repeat(60, [60, false])])).toContain('successRate');
    expect(judge(repeat(100, [240, true]))).toContain('durationMs.avg');
  });

  it('judges an hour against the same hour of the 14 days before, not against the night before it', () => {
    // Every day: 5 runs an hour at night, a steep morning ramp, 80 by day, 20 in the evening.
    const DAY = [...Array(8).fill(5), 15, 30, 60, ...Array(9).fill(80), ...Array(4).fill(20)] as number[];
    const runsAt = (hour: number) => DAY[hour % 24]!;
    const hours = (from: number, to: number, runs: (hour: number) => number) =>
      Array.from({ length: to - from }, (_, offset) => ({
        bucket: bucket(from + offset),
        totals: withExecutions(runs(from + offset), runs(from + offset)),
      }));
    const baseline = hours(0, 14 * 24, runsAt);
    const day = hours(14 * 24, 15 * 24, (hour) => (hour % 24 === 15 ? 150 : runsAt(hour)));
    const body = timeseriesBody(LATER, 'hour', 'UTC', baseline, day);
    const flagged = body.buckets.flatMap((row, hour) => (row.anomalies.includes('executions') ? [hour] : []));
    // Against the 14 hours before it, 10:00 (60 runs after a night of 5) would be flagged.
    expect(flagged).toEqual([15]);
    expect(body.buckets[15]?.baselines).toEqual({ executions: 80 });
  });

  it('judges no bucket that has not ended: this hour so far, or an hour still to come', () => {
    const baseline = steadyBaseline(50, 45);
    const range = rangeOf(withExecutions(5, 5), withExecutions(2, 2), emptyTotals());
    // Now is inside bucket 15: bucket 14 has ended, 15 is so far, 16 is to come.
    const now = bucket(15).startMs + 60_000;
    const flagged = timeseriesBody(now, 'day', 'UTC', baseline, range).buckets.map((row) => row.anomalies);
    expect(flagged).toEqual([['executions'], [], []]);
    const later = timeseriesBody(LATER, 'day', 'UTC', baseline, range).buckets.map((row) => row.anomalies);
    expect(later).toEqual([['executions'], ['executions'], ['executions']]);
  });

  it('flags nothing in the first 14 buckets of data, though the baseline before them is empty', () => {
    const baseline = Array.from({ length: 14 }, (_, index) => ({
      bucket: bucket(index),
      totals: emptyTotals(),
    }));
    const buckets = Array.from({ length: 16 }, (_, index) => ({
      bucket: bucket(14 + index),
      totals: withExecutions(index === 15 ? 60 : 10, 10),
    }));
    const body = timeseriesBody(LATER, 'day', 'UTC', baseline, buckets);
    expect(body.buckets.slice(0, 14).every((row) => row.anomalies.length === 0)).toBe(true);
    expect(body.buckets[15]?.anomalies).toContain('executions');
  });
});
