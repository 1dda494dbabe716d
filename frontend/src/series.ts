/**
 * The API's buckets mapped to what each chart draws: uPlot's columnar
 * `[xs, ...ys]` (unix seconds, null for gaps), the same numbers as CSV rows,
 * and a sentence a screen reader can read instead of the picture.
 */
import { CACHE_HIT_TARGET, SUCCESS_RATE_TARGET } from '../../functions/domain/targets';
import type { Bucket, Granularity } from './api-types';
import type { Cell } from './csv';
import {
  formatBucketLabel,
  formatCompact,
  formatCount,
  formatDuration,
  formatPercent,
  formatUsd,
} from './format';

export type Column = (number | null)[];

export interface ChartModel {
  /** uPlot's aligned data: xs first, then one column per series. */
  data: [number[], ...Column[]];
  /** The bucket behind each x position, for the drill-down. */
  buckets: Bucket[];
  csvHeader: string[];
  csvRows: Cell[][];
  /** A text alternative for screen readers. */
  summary: string;
  /** Index of the bucket still in progress ("so far"), or null when every bucket is complete. */
  partial: number | null;
}

export type TimeChartKind =
  | 'executions'
  | 'successRate'
  | 'cost'
  | 'tokens'
  | 'duration'
  | 'cacheHitRate'
  | 'failures';

export { CACHE_HIT_TARGET, SUCCESS_RATE_TARGET };

/** Unix seconds of a bucket start; uPlot's time scale counts seconds. */
export function bucketSeconds(bucket: Bucket): number {
  return Date.parse(bucket.start) / 1000;
}

interface Context {
  granularity: Granularity;
  tz: string;
  /** Epoch ms of "now", to find the bucket still in progress; none when absent. */
  nowMs?: number;
}

const BUCKET_MS: Record<Granularity, number> = { hour: 3_600_000, day: 86_400_000 };

/**
 * The index of the last bucket when it has not ended yet at `nowMs`: its
 * figures are partial (a day at noon holds half a day's runs), so it is drawn
 * as "so far" and never judged as an anomaly.
 */
export function partialBucketIndex(
  buckets: Bucket[],
  granularity: Granularity,
  nowMs: number,
): number | null {
  const last = buckets.length - 1;
  const start = Date.parse(buckets[last]?.start ?? '');
  return start <= nowMs && nowMs < start + BUCKET_MS[granularity] ? last : null;
}

/** The model of one time chart. */
export function timeChartModel(kind: TimeChartKind, allBuckets: Bucket[], context: Context): ChartModel {
  const partial =
    context.nowMs === undefined ? null : partialBucketIndex(allBuckets, context.granularity, context.nowMs);
  // The API judges the bucket in progress against full ones; a half-finished day always looks low.
  const buckets = allBuckets.map((b, index) =>
    index === partial && b.anomalies.length > 0 ? { ...b, anomalies: [] } : b,
  );
  const xs = buckets.map(bucketSeconds);
  const label = (index: number) =>
    `${formatBucketLabel(buckets[index]?.start ?? '', context.granularity, context.tz)}${index === partial ? ' (so far)' : ''}`;
  const column = (pick: (bucket: Bucket) => number | null) => buckets.map(pick);
  const base = { buckets, partial, csvRows: [] as Cell[][] };

  switch (kind) {
    case 'executions': {
      const successes = column((b) => b.successes);
      const failures = column((b) => b.failures);
      // Stacking: failures are drawn as the full bar, successes over its lower part.
      const totals = column((b) => b.executions);
      return {
        ...base,
        data: [xs, totals, successes],
        csvHeader: ['bucket_start', 'executions', 'successes', 'failures'],
        csvRows: buckets.map((b) => [b.start, b.executions, b.successes, b.failures]),
        summary: summarizeExecutions(totals, failures, label),
      };
    }
    case 'successRate': {
      const rates = column((b) => b.successRate);
      const below = rates.filter((rate) => rate !== null && rate < SUCCESS_RATE_TARGET).length;
      return {
        ...base,
        data: [xs, rates, xs.map(() => SUCCESS_RATE_TARGET)],
        csvHeader: ['bucket_start', 'success_rate', 'executions'],
        csvRows: buckets.map((b) => [b.start, b.successRate, b.executions]),
        summary: withData(
          rates,
          () =>
            `Success rate ${rangeText(rates, label, formatPercent)}. Below the ${formatPercent(SUCCESS_RATE_TARGET, 0)} threshold in ${below} of ${countDefined(rates)} ${bucketWord(context.granularity, countDefined(rates))} with runs.`,
        ),
      };
    }
    case 'cost': {
      const totals = column((b) => b.costUsd);
      const perRun = column((b) => b.costPerRunUsd);
      return {
        ...base,
        data: [xs, totals, perRun],
        csvHeader: ['bucket_start', 'cost_usd', 'cost_per_run_usd', 'executions'],
        csvRows: buckets.map((b) => [b.start, b.costUsd, b.costPerRunUsd, b.executions]),
        summary: withData(
          perRun,
          () =>
            `Total cost ${formatUsd(sum(totals))}; ${peakText(totals, label, formatUsd)}. Cost per run ${rangeText(perRun, label, formatUsd)}.`,
        ),
      };
    }
    case 'tokens': {
      const input = column((b) => b.tokens.input);
      const output = column((b) => b.tokens.output);
      const cacheRead = column((b) => b.tokens.cacheRead);
      const cacheWrite = column((b) => b.tokens.cacheWrite);
      return {
        ...base,
        data: [xs, input, output, cacheRead, cacheWrite],
        csvHeader: [
          'bucket_start',
          'input_tokens',
          'output_tokens',
          'cache_read_tokens',
          'cache_write_tokens',
        ],
        csvRows: buckets.map((b) => [
          b.start,
          b.tokens.input,
          b.tokens.output,
          b.tokens.cacheRead,
          b.tokens.cacheWrite,
        ]),
        summary: withData(
          input,
          () =>
            `Tokens in total: input ${formatCompact(sum(input))}, output ${formatCompact(sum(output))}, cache read ${formatCompact(sum(cacheRead))}, cache write ${formatCompact(sum(cacheWrite))}.`,
          sum(input) + sum(output) + sum(cacheRead) + sum(cacheWrite) > 0,
        ),
      };
    }
    case 'duration': {
      const avg = column((b) => b.durationMs.avg);
      const p50 = column((b) => b.durationMs.p50);
      const p95 = column((b) => b.durationMs.p95);
      const p99 = column((b) => b.durationMs.p99);
      return {
        ...base,
        data: [xs, avg, p50, p95, p99],
        csvHeader: [
          'bucket_start',
          'duration_avg_ms',
          'duration_p50_ms',
          'duration_p95_ms',
          'duration_p99_ms',
        ],
        csvRows: buckets.map((b) => [
          b.start,
          b.durationMs.avg,
          b.durationMs.p50,
          b.durationMs.p95,
          b.durationMs.p99,
        ]),
        summary: withData(
          avg,
          () =>
            `Average duration ${rangeText(avg, label, formatDuration)}. The median (p50) ${rangeText(p50, label, formatDuration)}. The p95 ${peakText(p95, label, formatDuration)}; the p99 ${peakText(p99, label, formatDuration)}.`,
        ),
      };
    }
    case 'cacheHitRate': {
      const rates = column((b) => b.cacheHitRate);
      const below = rates.filter((rate) => rate !== null && rate < CACHE_HIT_TARGET).length;
      return {
        ...base,
        data: [xs, rates, xs.map(() => CACHE_HIT_TARGET)],
        csvHeader: ['bucket_start', 'cache_hit_rate'],
        csvRows: buckets.map((b) => [b.start, b.cacheHitRate]),
        summary: withData(
          rates,
          () =>
            `Cache hit rate ${rangeText(rates, label, formatPercent)}. Below the ${formatPercent(CACHE_HIT_TARGET, 0)} target in ${below} of ${countDefined(rates)} ${bucketWord(context.granularity, countDefined(rates))}.`,
        ),
      };
    }
    case 'failures': {
      const failures = column((b) => b.failures);
      const markers = buckets.map((b) => (b.anomalies.length > 0 ? b.failures : null));
      const anomalous = buckets.flatMap((b, index) =>
        b.anomalies.length > 0 ? [`${label(index)} (${b.anomalies.join(', ')})`] : [],
      );
      return {
        ...base,
        data: [xs, failures, markers],
        csvHeader: ['bucket_start', 'failures', 'executions', 'anomalies'],
        csvRows: buckets.map((b) => [b.start, b.failures, b.executions, b.anomalies.join(' ')]),
        summary: withData(
          failures,
          () =>
            `${formatCount(sum(failures))} failures; ${peakText(failures, label, formatCount)}. ${
              anomalous.length > 0 ? `Anomalies: ${anomalous.join('; ')}.` : 'No anomalies.'
            }`,
          sum(column((b) => b.executions)) > 0,
        ),
      };
    }
  }
}

/**
 * LLM calls against cost, one point per bucket with runs. uPlot needs
 * ascending xs, so points are sorted by LLM calls.
 */
export function scatterModel(buckets: Bucket[]): ChartModel {
  const withRuns = buckets.filter((b) => b.executions > 0).sort((a, b) => a.llmCalls - b.llmCalls);
  const calls = withRuns.map((b) => b.llmCalls);
  const costs = withRuns.map((b) => b.costUsd);
  const r = correlation(calls, costs);
  return {
    data: [calls, costs],
    buckets: withRuns,
    partial: null,
    csvHeader: ['bucket_start', 'llm_calls', 'cost_usd', 'executions'],
    csvRows: withRuns.map((b) => [b.start, b.llmCalls, b.costUsd, b.executions]),
    summary:
      withRuns.length === 0
        ? 'No data.'
        : `${withRuns.length} buckets. Correlation between LLM calls and cost: ${r === null ? 'not defined' : r.toFixed(2)}${
            r === null
              ? ''
              : Math.abs(r) >= 0.7
                ? ' (strong)'
                : Math.abs(r) >= 0.4
                  ? ' (moderate)'
                  : ' (weak)'
          }.`,
  };
}

/** Pearson's r, or null when either side has no spread. */
export function correlation(xs: readonly number[], ys: readonly number[]): number | null {
  const n = Math.min(xs.length, ys.length);
  if (n < 2) return null;
  const meanX = xs.reduce((a, b) => a + b, 0) / n;
  const meanY = ys.reduce((a, b) => a + b, 0) / n;
  let covariance = 0;
  let varianceX = 0;
  let varianceY = 0;
  for (let i = 0; i < n; i++) {
    const dx = (xs[i] ?? 0) - meanX;
    const dy = (ys[i] ?? 0) - meanY;
    covariance += dx * dy;
    varianceX += dx * dx;
    varianceY += dy * dy;
  }
  if (varianceX === 0 || varianceY === 0) return null;
  return covariance / Math.sqrt(varianceX * varianceY);
}

function sum(values: Column): number {
  let total = 0;
  for (const value of values) total += value ?? 0;
  return total;
}

function countDefined(values: Column): number {
  return values.filter((value) => value !== null).length;
}

function bucketWord(granularity: Granularity, count: number): string {
  return `${granularity}${count === 1 ? '' : 's'}`;
}

function withData(values: Column, describe: () => string, hasData = countDefined(values) > 0): string {
  return hasData ? describe() : 'No data.';
}

type Formatter = (value: number | null) => string;

function extremes(values: Column): { min: number; minIndex: number; max: number; maxIndex: number } | null {
  let result: { min: number; minIndex: number; max: number; maxIndex: number } | null = null;
  values.forEach((value, index) => {
    if (value === null) return;
    if (!result) result = { min: value, minIndex: index, max: value, maxIndex: index };
    if (value < result.min) Object.assign(result, { min: value, minIndex: index });
    if (value > result.max) Object.assign(result, { max: value, maxIndex: index });
  });
  return result;
}

/** "ranged from 72.0 % (Nov 3) to 96.1 % (Nov 5)" */
function rangeText(values: Column, label: (index: number) => string, format: Formatter): string {
  const found = extremes(values);
  if (!found) return 'has no data';
  if (found.min === found.max) return `stayed at ${format(found.min)}`;
  return `ranged from ${format(found.min)} (${label(found.minIndex)}) to ${format(found.max)} (${label(found.maxIndex)})`;
}

/** "highest on Nov 5 with $12.30" */
function peakText(values: Column, label: (index: number) => string, format: Formatter): string {
  const found = extremes(values);
  return found ? `highest on ${label(found.maxIndex)} with ${format(found.max)}` : 'no data';
}

function summarizeExecutions(totals: Column, failures: Column, label: (index: number) => string): string {
  const runs = sum(totals);
  if (runs === 0) return 'No runs.';
  const failed = sum(failures);
  return `${formatCount(runs)} runs, ${formatCount(failed)} failed (${formatPercent(failed / runs)}); ${peakText(totals, label, formatCount)}.`;
}
