/**
 * Anomalies on a chart: a bucket's figure that lies more than 2 standard
 * deviations from its trailing baseline.
 *
 * The baseline of a bucket is the BASELINE_BUCKETS buckets of the same
 * granularity just before it (the query reads them even when they lie before
 * `from`, so the first bucket of a range has a full baseline). Null values
 * (a success rate with no runs) are neither judged nor part of a baseline.
 * With fewer than MIN_BASELINE_VALUES values there is no baseline and nothing
 * is flagged. A baseline with zero deviation flags any different value: after
 * two quiet weeks, the first failure-laden day is news.
 */

export const BASELINE_BUCKETS = 14;
export const MIN_BASELINE_VALUES = 7;
export const ANOMALY_SIGMAS = 2;

/** Relative tolerance that keeps float noise in sums from counting as a deviation. */
const EPSILON = 1e-9;

/** True when `value` lies more than ANOMALY_SIGMAS population standard deviations from the baseline's mean. */
export function isAnomalous(value: number | null, baseline: readonly (number | null)[]): boolean {
  if (value === null) return false;
  const values = baseline.filter((entry): entry is number => entry !== null);
  if (values.length < MIN_BASELINE_VALUES) return false;
  const mean = values.reduce((sum, entry) => sum + entry, 0) / values.length;
  const variance = values.reduce((sum, entry) => sum + (entry - mean) ** 2, 0) / values.length;
  const tolerance = EPSILON * Math.max(1, Math.abs(mean));
  return Math.abs(value - mean) > ANOMALY_SIGMAS * Math.sqrt(variance) + tolerance;
}

/**
 * For each value from index `firstJudged` on, whether it is anomalous against
 * the BASELINE_BUCKETS values before it.
 */
export function anomalousFlags(values: readonly (number | null)[], firstJudged: number): boolean[] {
  const flags: boolean[] = [];
  for (let index = firstJudged; index < values.length; index++) {
    const baseline = values.slice(Math.max(0, index - BASELINE_BUCKETS), index);
    flags.push(isAnomalous(values[index] ?? null, baseline));
  }
  return flags;
}
