/**
 * Duration percentiles from counters: a DDSketch-style logarithmic histogram.
 *
 * A duration x > 0 falls in bucket i = ceil(log_γ(x)) with γ = (1+α)/(1−α);
 * every value in that bucket lies within a relative error α of the bucket's
 * representative 2γ^i/(γ+1). Because buckets are fixed, histograms from any
 * set of hours simply add, and each bucket is one top-level DynamoDB number
 * attribute that the stream handler can `ADD` to (ADD cannot reach into maps).
 *
 * The value returned for a nearest-rank percentile is the representative of
 * the bucket that holds the exact nearest-rank value (bucket counts are
 * exact), so its error is at most α. The API promises 2 %; α = 1.9 % keeps
 * that promise with margin while using half the buckets of α = 1 %: a
 * realistic hour of runs (seconds to an hour) touches ~100 buckets instead of
 * ~200. Every bucket is an attribute of the aggregate item, and an UpdateItem
 * is charged per KB of item, so this halves the write units of a busy hour.
 * Same mapping as @datadog/sketches-js's LogarithmicMapping, without its
 * protobuf baggage.
 */

export const RELATIVE_ACCURACY = 0.019;
const GAMMA = (1 + RELATIVE_ACCURACY) / (1 - RELATIVE_ACCURACY);
const LOG_GAMMA = Math.log(GAMMA);

/** Attribute name prefix of a histogram bucket, e.g. `d412`. */
export const BUCKET_PREFIX = 'd';
/** Attribute holding the count of zero-millisecond durations. */
export const ZERO_BUCKET = 'dz';

/** Bucket attribute name for a duration in milliseconds (≥ 0). */
export function bucketAttribute(durationMs: number): string {
  if (durationMs <= 0) return ZERO_BUCKET;
  return `${BUCKET_PREFIX}${Math.ceil(Math.log(durationMs) / LOG_GAMMA)}`;
}

/** The value reported for a bucket: within α of every value it holds. */
export function bucketValue(attribute: string): number {
  if (attribute === ZERO_BUCKET) return 0;
  const index = Number(attribute.slice(BUCKET_PREFIX.length));
  return (2 * GAMMA ** index) / (GAMMA + 1);
}

export function isBucketAttribute(attribute: string): boolean {
  return attribute === ZERO_BUCKET || /^d-?\d+$/.test(attribute);
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
 * known), so after removals it is a bound that holds every remaining run.
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

/** Exact nearest-rank percentile of raw values; the reference the sketch is tested against. */
export function exactPercentile(values: readonly number[], quantile: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(1, Math.ceil(quantile * sorted.length)) - 1] ?? null;
}

/**
 * A histogram in one string attribute: `<index>:<count>` entries in bucket
 * order, comma-separated, `z` for the zero bucket (`z:1,-3:2,412:7`).
 *
 * Why packed: DynamoDB Local spends ~10 µs per stored attribute on every read,
 * and a busy day item held one attribute per bucket and status (up to ~800),
 * so reading 30 days of 4 models took hundreds of milliseconds. Packed (with
 * the counters, see aggregate-keys.ts), an item has ~7 attributes. The price
 * is on the write side: a string cannot be ADDed to, so the writer merges it
 * (see aggregates-store.ts).
 */
export function packHistogram(histogram: Histogram): string {
  const entries: [number, string][] = [];
  for (const [attribute, count] of histogram) {
    if (count === 0) continue;
    const index = attribute === ZERO_BUCKET ? Number.NEGATIVE_INFINITY : Number(attribute.slice(1));
    entries.push([index, `${attribute === ZERO_BUCKET ? 'z' : attribute.slice(1)}:${count}`]);
  }
  return entries
    .sort((a, b) => a[0] - b[0])
    .map(([, entry]) => entry)
    .join(',');
}

/** Whether text[from, to) is a decimal integer, optionally negative. */
function isInteger(text: string, from: number, to: number): boolean {
  const start = text.charCodeAt(from) === 45 /* - */ ? from + 1 : from;
  if (start >= to) return false;
  for (let index = start; index < to; index++) {
    const code = text.charCodeAt(index);
    if (code < 48 || code > 57) return false;
  }
  return true;
}

/**
 * Reads packHistogram's format into `into` (adding to what it holds).
 * Malformed entries are skipped. A dashboard read unpacks ~100 buckets of
 * ~1,000 items, so this scans characters instead of splitting and testing
 * regular expressions.
 */
export function unpackHistogram(packed: string, into: Histogram = new Map()): Histogram {
  let start = 0;
  while (start < packed.length) {
    let end = packed.indexOf(',', start);
    if (end < 0) end = packed.length;
    const colon = packed.indexOf(':', start);
    if (colon > start && colon < end && isInteger(packed, colon + 1, end)) {
      const isZero = colon === start + 1 && packed.charCodeAt(start) === 122; /* z */
      if (isZero || isInteger(packed, start, colon)) {
        const attribute = isZero ? ZERO_BUCKET : `${BUCKET_PREFIX}${packed.slice(start, colon)}`;
        into.set(attribute, (into.get(attribute) ?? 0) + Number(packed.slice(colon + 1, end)));
      }
    }
    start = end + 1;
  }
  return into;
}
