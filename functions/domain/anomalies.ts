/**
 * Anomalies on a chart: a bucket's figure that lies more than 2 standard
 * deviations from its trailing baseline.
 *
 * The baseline of a day is the BASELINE_BUCKETS days just before it; the
 * baseline of an hour is the same hour of those days (24, 48, … hours
 * before it; around a change of daylight-saving time that is an hour off on
 * the local clock). Runs follow the daily cycle, and the 14 hours before
 * 10:00 are the night: against them every morning's volume and cost would
 * be news. The query reads the baseline even when it lies before `from`, so
 * the first bucket of a range has a full baseline. Null values
 * (a success rate with no runs) are neither judged nor part of a baseline.
 * With fewer than MIN_BASELINE_VALUES values there is no baseline and nothing
 * is flagged. A baseline with zero deviation flags any different value: after
 * two quiet weeks, the first failure-laden day is news.
 *
 * Nothing is judged before a full baseline exists: a bucket is judged only
 * when its whole baseline comes after the first bucket with data (`since`). Otherwise the empty days before data begins (zero
 * runs, zero cost) would make the first days of data look anomalous.
 *
 * A rate or an average over a few runs is noise, not news: 3 runs at night
 * that all succeed lie "2σ" above an 88 % baseline. So two guards, both
 * applied by the caller (timeseries.ts):
 * - below MIN_RUNS_TO_JUDGE_A_RATE runs a rate or average is handed in as
 *   null: neither judged nor part of a baseline;
 * - each value comes with its own noise, the standard error chance alone
 *   gives it over its runs (√(p(1−p)/n) for a success rate, s/√n for an
 *   average duration, 0 for an exact total), and it is flagged only when it
 *   strays more than ANOMALY_SIGMAS of its noise too: 8 of 10 runs against
 *   an 88 % baseline is 0.8 standard errors off, however steady the
 *   baseline was.
 */
import { alarmRule } from './alarm-rule';
import type { Granularity } from './query-range';

/** Values in a baseline: 14 days, or the same hour of 14 days. */
export const BASELINE_BUCKETS = 14;

/** Buckets from one baseline value to the next (and from the bucket judged to the nearest). */
export const BASELINE_STRIDE: Readonly<Record<Granularity, number>> = { day: 1, hour: 24 };

/** Buckets a timeseries reads before its range to judge its first bucket. */
export const bucketsOfBaseline = (granularity: Granularity): number =>
  BASELINE_BUCKETS * BASELINE_STRIDE[granularity];

/**
 * Fewer runs than this in a bucket, and its success rate and average
 * duration are neither judged nor part of a baseline: the alarm's own
 * minimum volume, below which it calls a rate noise.
 */
export const MIN_RUNS_TO_JUDGE_A_RATE = alarmRule.minExecutions;
const MIN_BASELINE_VALUES = 7;
export const ANOMALY_SIGMAS = 2;

/** Relative tolerance that keeps float noise in sums from counting as a deviation. */
const EPSILON = 1e-9;

/**
 * The standard error of a value by chance alone, given the baseline's mean
 * (a success rate's depends on it); 0 for exact totals.
 */
export type Noise = (mean: number) => number;

/** The noise of an exact total (executions, cost): none. */
export const EXACT: Noise = () => 0;

/**
 * The baseline's mean when `value` lies more than ANOMALY_SIGMAS population
 * standard deviations from it and more than ANOMALY_SIGMAS of its own
 * `noise`, else null (not anomalous, or no baseline).
 */
function anomalyBaseline(
  value: number | null,
  baseline: readonly (number | null)[],
  noise: Noise = EXACT,
): number | null {
  if (value === null) return null;
  const values = baseline.filter((entry): entry is number => entry !== null);
  if (values.length < MIN_BASELINE_VALUES) return null;
  const mean = values.reduce((sum, entry) => sum + entry, 0) / values.length;
  const variance = values.reduce((sum, entry) => sum + (entry - mean) ** 2, 0) / values.length;
  const tolerance = EPSILON * Math.max(1, Math.abs(mean));
  const deviation = Math.abs(value - mean);
  const beyondSpread = deviation > ANOMALY_SIGMAS * Math.sqrt(variance) + tolerance;
  return beyondSpread && deviation > ANOMALY_SIGMAS * noise(mean) ? mean : null;
}

/** True when `value` lies more than ANOMALY_SIGMAS population standard deviations from the baseline's mean. */
export function isAnomalous(value: number | null, baseline: readonly (number | null)[]): boolean {
  return anomalyBaseline(value, baseline) !== null;
}

/**
 * For each value from index `firstJudged` on, the mean of its baseline (the
 * BASELINE_BUCKETS values `stride`, 2·`stride`, … places before it) when it
 * is anomalous against them, else null. A value whose baseline reaches
 * before `since` (the first bucket with data) is not judged. `noiseAt` gives
 * each value's own noise (see Noise); by default values are exact.
 */
export function anomalyBaselines(
  values: readonly (number | null)[],
  firstJudged: number,
  since = 0,
  noiseAt: (index: number) => Noise = () => EXACT,
  stride = 1,
): (number | null)[] {
  const found: (number | null)[] = [];
  for (let index = firstJudged; index < values.length; index++) {
    const full = since >= 0 && index - BASELINE_BUCKETS * stride >= since;
    const baseline = Array.from(
      { length: BASELINE_BUCKETS },
      (_, back) => values[index - (BASELINE_BUCKETS - back) * stride] ?? null,
    );
    found.push(full ? anomalyBaseline(values[index] ?? null, baseline, noiseAt(index)) : null);
  }
  return found;
}

/** For each value from index `firstJudged` on, whether it is anomalous (see anomalyBaselines). */
export function anomalousFlags(
  values: readonly (number | null)[],
  firstJudged: number,
  since = 0,
): boolean[] {
  return anomalyBaselines(values, firstJudged, since).map((mean) => mean !== null);
}
