/**
 * Derived figures, exactly as API.md defines them. A rate with a zero
 * denominator is null, never NaN or Infinity.
 */
import { addCounters, type Counters, emptyCounters } from './counters';
import { divideRoundingHalfUp, nanosToUsd } from './money';
import { type Extent, type Histogram, mergeHistogram, percentiles, widenExtent } from './sketch';

export function ratio(numerator: number, denominator: number): number | null {
  return denominator === 0 ? null : numerator / denominator;
}

/**
 * Cost per unit, divided in integer nanodollars (rounded half up) so that
 * $0.30 over 3 runs is exactly $0.10, not 0.09999999999999999.
 */
function costPer(costNanos: bigint, units: number): number | null {
  if (units === 0) return null;
  return nanosToUsd(divideRoundingHalfUp(costNanos, BigInt(units)));
}

/** What runs cost: reported plus estimated; a run with neither counts as $0. */
export function totalCostNanos(counters: Readonly<Counters>): bigint {
  return counters.costNanos + counters.estimatedCostNanos;
}

/** Total cost per unit (run, success); see costPer. */
export function totalCostPer(counters: Readonly<Counters>, units: number): number | null {
  return costPer(totalCostNanos(counters), units);
}

/**
 * The cost of a set of runs, reported and estimated apart (API.md): totalUsd
 * is their sum, so the estimate never hides among reported costs.
 */
export function costFigures(counters: Readonly<Counters>) {
  return {
    totalUsd: nanosToUsd(totalCostNanos(counters)),
    reportedUsd: nanosToUsd(counters.costNanos),
    estimatedUsd: nanosToUsd(counters.estimatedCostNanos),
    runsWithEstimatedCost: counters.estimatedCostRuns,
    runsWithUnknownCost: counters.unknownCostRuns,
  };
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

export function durationFigures(counters: Counters, histogram: Histogram, extent?: Extent) {
  const [p50, p95, p99] = percentiles(histogram, [0.5, 0.95, 0.99], extent);
  return {
    avg: ratio(counters.durationMsSum, counters.executions),
    p50: p50 ?? null,
    p95: p95 ?? null,
    p99: p99 ?? null,
  };
}

/** Counters, duration histogram and duration extent of a set of runs. */
export interface Totals {
  readonly counters: Counters;
  readonly histogram: Histogram;
  /** Holds every run's duration; unknown for items written before extents were kept. */
  extent?: Extent;
}

/**
 * Totals that are only read: the items decoded by the store, which may be
 * shared between requests (see decodedOf in aggregates-reader.ts).
 */
export interface ReadonlyTotals {
  readonly counters: Readonly<Counters>;
  readonly histogram: ReadonlyMap<string, number>;
  readonly extent?: Extent;
}

export function emptyTotals(): Totals {
  return { counters: emptyCounters(), histogram: new Map() };
}

/** Adds `other` into `into`. */
export function addTotals(into: Totals, other: ReadonlyTotals): Totals {
  addCounters(into.counters, other.counters);
  mergeHistogram(into.histogram, other.histogram);
  into.extent = widenExtent(into.extent, other.extent);
  return into;
}

/**
 * Adds `sign` × `other` into `into`. Every counter and histogram count is an
 * integer, so subtracting an hour from the day that contains it is exact; a
 * histogram bucket that ends at 0 stays in the map, which percentiles()
 * ignores (it reads counts > 0 only).
 */
export function addSignedTotals(into: Totals, other: ReadonlyTotals, sign: 1 | -1): Totals {
  if (sign === 1) return addTotals(into, other);
  addCounters(into.counters, other.counters, -1);
  for (const [bucket, count] of other.histogram)
    into.histogram.set(bucket, (into.histogram.get(bucket) ?? 0) - count);
  // The extent stays: it held the runs before, so it holds the ones left.
  return into;
}

/** The figures a timeseries bucket and a models row share, per API.md. */
export function rowFigures({ counters, histogram, extent }: Totals) {
  const duration = durationFigures(counters, histogram, extent);
  return {
    executions: counters.executions,
    successes: counters.successes,
    failures: counters.failures,
    successRate: ratio(counters.successes, counters.executions),
    /** Reported plus estimated, as cost.totalUsd. */
    costUsd: nanosToUsd(totalCostNanos(counters)),
    costPerRunUsd: totalCostPer(counters, counters.executions),
    tokens: tokensOf(counters),
    cacheHitRate: cacheHitRate(counters),
    durationMs: duration,
  };
}
