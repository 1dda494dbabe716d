import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  bucketAttribute,
  exactPercentile,
  type Histogram,
  mergeHistogram,
  percentiles,
  RELATIVE_ACCURACY,
  standardDeviation,
  widenExtent,
} from '../../../functions/domain/sketch';
import { seededRandom } from '../../support/run-dataset';

const QUANTILES = [0.5, 0.95, 0.99] as const;

function histogramOf(durations: readonly number[]): Histogram {
  const histogram: Histogram = new Map();
  for (const duration of durations) mergeHistogram(histogram, [[bucketAttribute(duration), 1]]);
  return histogram;
}

function relativeError(estimate: number | null, exact: number | null): number {
  if (estimate === null || exact === null) throw new Error('empty');
  return exact === 0 ? Math.abs(estimate) : Math.abs(estimate - exact) / exact;
}

const next = seededRandom(42);
const gaussian = () => Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());
const DISTRIBUTIONS: Record<string, () => number> = {
  'log-normal around 2 minutes': () => Math.round(Math.exp(Math.log(120_000) + gaussian())),
  'uniform 1 s – 1 h': () => Math.round(1_000 + next() * 3_599_000),
  'exponential, mean 30 s': () => Math.round(-30_000 * Math.log(1 - next())),
  'bimodal: fast failures and long fixes': () =>
    next() < 0.3 ? Math.round(500 + next() * 4_500) : Math.round(600_000 + next() * 1_200_000),
  'heavy tail (Pareto)': () => Math.round(2_000 / (1 - next()) ** 0.8),
  'constant with zeros': () => (next() < 0.1 ? 0 : 42_000),
};

describe('duration sketch', () => {
  for (const [name, draw] of Object.entries(DISTRIBUTIONS)) {
    it(`keeps p50/p95/p99 of 10,000 runs within 2 % of the exact nearest-rank value: ${name}`, () => {
      const durations = Array.from({ length: 10_000 }, draw);
      const estimates = percentiles(histogramOf(durations), QUANTILES);
      QUANTILES.forEach((quantile, index) => {
        expect(
          relativeError(estimates[index] ?? null, exactPercentile(durations, quantile)),
        ).toBeLessThanOrEqual(0.02);
      });
    });
  }

  it('keeps the bound for histograms merged across 24 hours and 5 models', () => {
    const durations: number[] = [];
    const merged: Histogram = new Map();
    for (let bucket = 0; bucket < 24 * 5; bucket++) {
      const draw = Object.values(DISTRIBUTIONS)[bucket % 6] ?? (() => 1);
      const part = Array.from({ length: 100 }, draw);
      durations.push(...part);
      mergeHistogram(merged, histogramOf(part));
    }
    const estimates = percentiles(merged, QUANTILES);
    QUANTILES.forEach((quantile, index) => {
      expect(
        relativeError(estimates[index] ?? null, exactPercentile(durations, quantile)),
      ).toBeLessThanOrEqual(0.02);
    });
  });

  it('never errs by more than α on any durations and quantile (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 86_400_000 }), { minLength: 1, maxLength: 300 }),
        fc.double({ min: 0.001, max: 1, noNaN: true }),
        (durations, quantile) => {
          const [estimate] = percentiles(histogramOf(durations), [quantile]);
          const exact = exactPercentile(durations, quantile);
          return relativeError(estimate ?? null, exact) <= RELATIVE_ACCURACY * (1 + 1e-9);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('subtracts a corrected run back out of the histogram', () => {
    const histogram = histogramOf([1_000, 2_000, 3_000]);
    mergeHistogram(histogram, [[bucketAttribute(3_000), -1]]);
    expect(percentiles(histogram, [1])[0]).toBeCloseTo(2_000, -2);
  });

  it('reports null percentiles for an empty histogram', () => {
    expect(percentiles(new Map(), QUANTILES)).toEqual([null, null, null]);
  });

  it('gives the standard deviation of the durations within α, and null when empty', () => {
    // Ten runs of 1 min and ten of 10 min: mean 330 s, deviation exactly 270 s.
    const histogram = histogramOf([...Array(10).fill(60_000), ...Array(10).fill(600_000)]);
    const deviation = standardDeviation(histogram) ?? Number.NaN;
    expect(Math.abs(deviation - 270_000) / 270_000).toBeLessThan(RELATIVE_ACCURACY * 2);
    expect(standardDeviation(histogramOf(Array(5).fill(90_000)))).toBe(0);
    expect(standardDeviation(new Map())).toBeNull();
  });
});

describe('percentiles clamped to the extent', () => {
  it('reads exactly 5 min at every quantile when every run lasts exactly 5 min', () => {
    const histogram = new Map([[bucketAttribute(300_000), 1_000]]);
    expect(percentiles(histogram, [0.5, 0.95, 0.99])).not.toEqual([300_000, 300_000, 300_000]);
    expect(percentiles(histogram, [0.5, 0.95, 0.99], { minMs: 300_000, maxMs: 300_000 })).toEqual([
      300_000, 300_000, 300_000,
    ]);
  });

  it('never reads outside the shortest and longest run', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 86_400_000 }), { minLength: 1, maxLength: 200 }),
        (durations) => {
          const histogram = new Map<string, number>();
          for (const duration of durations) mergeHistogram(histogram, [[bucketAttribute(duration), 1]]);
          const extent = { minMs: Math.min(...durations), maxMs: Math.max(...durations) };
          for (const value of percentiles(histogram, [0, 0.5, 0.95, 0.99, 1], extent)) {
            expect(value).toBeGreaterThanOrEqual(extent.minMs);
            expect(value).toBeLessThanOrEqual(extent.maxMs);
          }
        },
      ),
    );
  });

  it('widens an unknown extent to the known one, and two known ones to both', () => {
    expect(widenExtent(undefined, { minMs: 1, maxMs: 2 })).toEqual({ minMs: 1, maxMs: 2 });
    expect(widenExtent({ minMs: 5, maxMs: 9 }, { minMs: 1, maxMs: 2 })).toEqual({ minMs: 1, maxMs: 9 });
  });
});
