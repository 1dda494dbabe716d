/**
 * Duration percentiles from counters: a DDSketch-style logarithmic histogram.
 *
 * A duration x > 0 falls in bucket i = ceil(log_γ(x)) with γ = (1+α)/(1−α);
 * every value in that bucket lies within a relative error α of the bucket's
 * representative 2γ^i/(γ+1). Because buckets are fixed, histograms from any
 * set of hours simply add (and subtract). How a histogram is stored is the
 * store's business (one number attribute per bucket, functions/store/aggregate-keys.ts).
 *
 * The value returned for a nearest-rank percentile is the representative of
 * the bucket that holds the exact nearest-rank value (bucket counts are
 * exact), so its error is at most α. The API promises 2 %; α = 1.9 % keeps
 * that promise with margin while using half the buckets of α = 1 %: a
 * realistic hour of runs (seconds to an hour) touches ~100 buckets instead of
 * ~200. Every bucket is stored in the aggregate item, and an UpdateItem is
 * charged per KB of item, so this halves the write units of a busy hour.
 * Same mapping as @datadog/sketches-js's LogarithmicMapping, without its
 * protobuf baggage.
 */

export const RELATIVE_ACCURACY = 0.019;
const GAMMA = (1 + RELATIVE_ACCURACY) / (1 - RELATIVE_ACCURACY);
const LOG_GAMMA = Math.log(GAMMA);

/** Prefix of a histogram bucket's name, e.g. `d412`. */
export const BUCKET_PREFIX = 'd';
/** The bucket of zero-millisecond durations. */
export const ZERO_BUCKET = 'dz';

/** The bucket name of a duration in milliseconds (≥ 0). */
export function bucketAttribute(durationMs: number): string {
  if (durationMs <= 0) return ZERO_BUCKET;
  return `${BUCKET_PREFIX}${Math.ceil(Math.log(durationMs) / LOG_GAMMA)}`;
}

/** The value reported for a bucket: within α of every value it holds. */
function bucketValue(attribute: string): number {
  if (attribute === ZERO_BUCKET) return 0;
  const index = Number(attribute.slice(BUCKET_PREFIX.length));
  return (2 * GAMMA ** index) / (GAMMA + 1);
}

/** A histogram: bucket attribute → count. */
export type Histogram = Map<string, number>;

/** Adds `other` into `into` (counts may be negative while building deltas). */
export function mergeHistogram(into: Histogram, other: Iterable<[string, number]>): Histogram {
  for (const [bucket, count] of other) into.set(bucket, (into.get(bucket) ?? 0) + count);
  return into;
}

function sortedBuckets(histogram: Histogram): [number, number][] {
  return [...histogram]
    .filter(([, count]) => count > 0)
    .map(([attribute, count]): [number, number] => [bucketValue(attribute), count])
    .sort((a, b) => a[0] - b[0]);
}

/**
 * The shortest and longest duration of a set of runs, kept exactly beside
 * the histogram. Removing a run cannot narrow it (the next shortest is not
 * known), so after removals it is a bound that holds every remaining run,
 * until a rebuild recomputes it from the runs (store/aggregates-rebuild.ts).
 */
export interface Extent {
  readonly minMs: number;
  readonly maxMs: number;
}

/** The smallest extent holding both (either may be unknown). */
export function widenExtent(a: Extent | undefined, b: Extent | undefined): Extent | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return { minMs: Math.min(a.minMs, b.minMs), maxMs: Math.max(a.maxMs, b.maxMs) };
}

/**
 * Nearest-rank percentiles (rank = ⌈q·n⌉) from a histogram; null when empty.
 * `quantiles` are fractions, e.g. [0.5, 0.95, 0.99]. Each is clamped to
 * `extent`, which holds every run: a bucket's representative can lie past
 * the runs it holds (every run at exactly 5 min would read 4 min 56 s), and
 * clamping only moves the value closer to all of them, so a percentile
 * never contradicts the shortest, the longest or the average of equal runs.
 */
export function percentiles(
  histogram: Histogram,
  quantiles: readonly number[],
  extent?: Extent,
): (number | null)[] {
  const clamp = (value: number) =>
    extent === undefined ? value : Math.min(extent.maxMs, Math.max(extent.minMs, value));
  const buckets = sortedBuckets(histogram);
  const total = buckets.reduce((sum, [, count]) => sum + count, 0);
  if (total === 0) return quantiles.map(() => null);
  return quantiles.map((quantile) => {
    const rank = Math.max(1, Math.ceil(quantile * total));
    let seen = 0;
    for (const [value, count] of buckets) {
      seen += count;
      if (seen >= rank) return clamp(value);
    }
    const last = buckets[buckets.length - 1]?.[0];
    return last === undefined ? null : clamp(last);
  });
}

/**
 * The population standard deviation of the durations, from the bucket
 * representatives (each within α of its runs); null when empty. What an
 * average over these runs may stray by chance (anomalies.ts).
 */
export function standardDeviation(histogram: Histogram): number | null {
  let runs = 0;
  let sum = 0;
  let sumOfSquares = 0;
  for (const [value, count] of sortedBuckets(histogram)) {
    runs += count;
    sum += value * count;
    sumOfSquares += value * value * count;
  }
  if (runs === 0) return null;
  const mean = sum / runs;
  return Math.sqrt(Math.max(0, sumOfSquares / runs - mean * mean));
}

/** Exact nearest-rank percentile of raw values; the reference the sketch is tested against. */
export function exactPercentile(values: readonly number[], quantile: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(1, Math.ceil(quantile * sorted.length)) - 1] ?? null;
}
