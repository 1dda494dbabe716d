/**
 * Derived figures, exactly as API.md defines them. A rate with a zero
 * denominator is null, never NaN or Infinity.
 */
import type { Counters } from './deltas';
import { nanosToUsd } from './money';
import { type Histogram, mergeHistogram, percentiles } from './sketch';

export function ratio(numerator: number, denominator: number): number | null {
  return denominator === 0 ? null : numerator / denominator;
}

/** Cost per unit, exact until the final division. */
export function costPer(costNanos: bigint, units: number): number | null {
  return units === 0 ? null : nanosToUsd(costNanos) / units;
}

export function addCounters(into: Counters, other: Counters): Counters {
  into.executions += other.executions;
  into.successes += other.successes;
  into.failures += other.failures;
  into.costNanos += other.costNanos;
  into.unknownCostRuns += other.unknownCostRuns;
  into.inputTokens += other.inputTokens;
  into.outputTokens += other.outputTokens;
  into.cacheReadTokens += other.cacheReadTokens;
  into.cacheWriteTokens += other.cacheWriteTokens;
  into.llmCalls += other.llmCalls;
  into.toolCalls += other.toolCalls;
  into.filesModified += other.filesModified;
  into.durationMsSum += other.durationMsSum;
  return into;
}

export function tokensOf(counters: Counters) {
  const {
    inputTokens: input,
    outputTokens: output,
    cacheReadTokens: cacheRead,
    cacheWriteTokens: cacheWrite,
  } = counters;
  return { input, output, cacheRead, cacheWrite, total: input + output + cacheRead + cacheWrite };
}

/** cacheRead / (input + cacheRead + cacheWrite). */
export function cacheHitRate(counters: Counters): number | null {
  return ratio(
    counters.cacheReadTokens,
    counters.inputTokens + counters.cacheReadTokens + counters.cacheWriteTokens,
  );
}

export function durationFigures(counters: Counters, histogram: Histogram) {
  const [p50, p95, p99] = percentiles(histogram, [0.5, 0.95, 0.99]);
  return {
    avg: ratio(counters.durationMsSum, counters.executions),
    p50: p50 ?? null,
    p95: p95 ?? null,
    p99: p99 ?? null,
  };
}

/** Sums counters and histograms of many buckets. */
export function combine(
  buckets: Iterable<{ counters: Counters; histogram: Histogram }>,
  empty: () => Counters,
) {
  const counters = empty();
  const histogram: Histogram = new Map();
  for (const bucket of buckets) {
    addCounters(counters, bucket.counters);
    mergeHistogram(histogram, bucket.histogram);
  }
  return { counters, histogram };
}
