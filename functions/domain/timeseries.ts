/**
 * GET /api/timeseries: one row per bucket, every bucket present, with the
 * anomalies of each. Pure.
 */
import { anomalyBaselines, BASELINE_STRIDE, EXACT, MIN_RUNS_TO_JUDGE_A_RATE, type Noise } from './anomalies';
import type { Granularity, SignedKey, TimeBucket } from './query-range';
import { addSignedTotals, emptyTotals, type ReadonlyTotals, rowFigures, type Totals } from './rates';
import { standardDeviation } from './sketch';

/** An aggregate item's totals with its bucket key (`2026-11-01T13` or `2026-11-01`). */
export interface KeyedTotals extends ReadonlyTotals {
  readonly bucket: string;
}

/**
 * The totals of each span of a signed plan (see signedKeysOf): every item
 * whose key a span names is added or subtracted once. Items of several models
 * or statuses may share a key; each counts. Items no span names are ignored.
 */
export function signedTotalsPerSpan(
  perSpan: readonly (readonly SignedKey[])[],
  items: Iterable<KeyedTotals>,
): Totals[] {
  const byKey = new Map<string, KeyedTotals[]>();
  for (const item of items) {
    const list = byKey.get(item.bucket);
    if (list) list.push(item);
    else byKey.set(item.bucket, [item]);
  }
  return perSpan.map((terms) => {
    const totals = emptyTotals();
    for (const { key, sign } of terms)
      for (const item of byKey.get(key) ?? []) addSignedTotals(totals, item, sign);
    return totals;
  });
}

const ANOMALY_FIGURES = ['costUsd', 'durationMs.avg', 'executions', 'successRate'] as const;
export type AnomalyFigure = (typeof ANOMALY_FIGURES)[number];

function bucketRow(label: string, totals: Totals) {
  return { start: label, ...rowFigures(totals), llmCalls: totals.counters.llmCalls };
}

type BucketRow = ReturnType<typeof bucketRow>;

/** A rate or an average of a bucket with too few runs to judge (anomalies.ts) reads as no value. */
const judgedRate = (row: BucketRow, value: number | null) =>
  row.executions < MIN_RUNS_TO_JUDGE_A_RATE ? null : value;

/**
 * How each figure is judged: its value (null: not judged) and its noise, the
 * standard error chance alone gives it over the bucket's runs (anomalies.ts).
 */
const judged: Record<
  AnomalyFigure,
  { value: (row: BucketRow) => number | null; noise: (totals: Totals) => Noise }
> = {
  costUsd: { value: (row) => row.costUsd, noise: () => EXACT },
  executions: { value: (row) => row.executions, noise: () => EXACT },
  successRate: {
    value: (row) => judgedRate(row, row.successRate),
    noise:
      ({ counters }) =>
      (mean) =>
        Math.sqrt(Math.max(0, mean * (1 - mean)) / counters.executions),
  },
  'durationMs.avg': {
    value: (row) => judgedRate(row, row.durationMs.avg),
    noise: ({ counters, histogram }) => {
      const spread = (standardDeviation(histogram) ?? 0) / Math.sqrt(counters.executions);
      return () => spread;
    },
  },
};

/**
 * The response body. `baseline` are the bucketsOfBaseline buckets just before
 * the range (only used to judge anomalies), `buckets` the range's own, each
 * with its totals. Each bucket lists its anomalous figures and, in
 * `baselines`, the baseline mean each was judged against. Buckets are judged only once a full baseline
 * exists after the first bucket with runs (see anomalies.ts), and only once
 * they have ended by `nowMs`: this hour so far, or a day still to come with
 * no runs yet, is no anomaly.
 */
export function timeseriesBody(
  nowMs: number,
  granularity: Granularity,
  tz: string,
  baseline: readonly { bucket: TimeBucket; totals: Totals }[],
  buckets: readonly { bucket: TimeBucket; totals: Totals }[],
) {
  const all = [...baseline, ...buckets];
  const rows = all.map(({ bucket, totals }) => bucketRow(bucket.label, totals));
  const since = rows.findIndex((row) => row.executions > 0);
  const anomalies = buckets.map((): AnomalyFigure[] => []);
  const baselines = buckets.map((): Partial<Record<AnomalyFigure, number>> => ({}));
  const stride = BASELINE_STRIDE[granularity];
  for (const figure of ANOMALY_FIGURES) {
    const { value, noise } = judged[figure];
    const noiseAt = (index: number) => noise(all[index]?.totals ?? emptyTotals());
    anomalyBaselines(rows.map(value), baseline.length, since, noiseAt, stride).forEach((mean, index) => {
      const ended = (buckets[index]?.bucket.endMs ?? Number.POSITIVE_INFINITY) <= nowMs;
      if (mean === null || !ended) return;
      anomalies[index]?.push(figure);
      baselines[index]![figure] = mean;
    });
  }
  return {
    granularity,
    tz,
    buckets: rows.slice(baseline.length).map((row, index) => ({
      ...row,
      anomalies: anomalies[index] ?? [],
      baselines: baselines[index] ?? {},
    })),
  };
}
