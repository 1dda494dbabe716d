/**
 * The scatter of LLM calls against cost, per run: one point per bucket with
 * runs, at its LLM calls per run and its cost per run. Per-run figures keep
 * volume out of it (a busy Monday has more calls and more cost for no other
 * reason), so r speaks of what a run's calls do to its cost.
 */
import type { Bucket } from './api-types';
import { axis, type ChartModel, type ChartOptions, noPath, valuesWith } from './chart-kit';
import { formatDecimal, formatUsd } from './format';
import type { Palette } from './theme';

/** Below this many points r is mostly noise, and the card says so. */
export const SCATTER_MIN_POINTS = 10;

export interface ScatterModel extends ChartModel {
  /** Pearson's r over the points, or null when either side has no spread. */
  r: number | null;
  /** Number of points. */
  n: number;
}

const callsPerRun = (b: Bucket) => b.llmCalls / b.executions;

/** uPlot needs ascending xs, so points are sorted by LLM calls per run. */
export function scatterModel(buckets: Bucket[]): ScatterModel {
  const points = buckets
    .filter((b) => b.executions > 0 && b.costPerRunUsd !== null)
    .sort((a, b) => callsPerRun(a) - callsPerRun(b));
  const calls = points.map(callsPerRun);
  const costs = points.map((b) => b.costPerRunUsd as number);
  const r = correlation(calls, costs);
  return {
    data: [calls, costs],
    buckets: points,
    partial: null,
    anomalies: [],
    r,
    n: points.length,
    csvHeader: ['bucket_start', 'llm_calls_per_run', 'cost_per_run_usd', 'executions'],
    csvRows: points.map((b, index) => [b.start, calls[index], b.costPerRunUsd, b.executions]),
    summary:
      points.length === 0
        ? 'No data.'
        : `${points.length} buckets. Correlation between LLM calls per run and cost per run: ${correlationText(r)}.`,
  };
}

/** "0.82 (strong)", or "not defined". */
export function correlationText(r: number | null): string {
  if (r === null) return 'not defined';
  const strength = Math.abs(r) >= 0.7 ? 'strong' : Math.abs(r) >= 0.4 ? 'moderate' : 'weak';
  return `${r.toFixed(2)} (${strength})`;
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

/** Points only; both axes sized to their tick labels so the titles never overlap them. */
export function scatterOptions(palette: Palette): ChartOptions {
  return {
    mode: 1,
    cursor: { drag: { x: false, y: false }, points: { size: 9 } },
    scales: {
      x: {
        time: false,
        range: (_u, min, max) => [Math.max(0, min - (max - min) * 0.05), max + (max - min) * 0.05 || 1],
      },
      y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] },
    },
    series: [
      { label: 'LLM calls per run', value: (_u, v) => formatDecimal(v) },
      {
        label: 'Cost per run',
        stroke: palette.primary,
        fill: `${palette.primary}88`,
        paths: noPath,
        points: { show: true, size: 7 },
        value: (_u, v) => formatUsd(v),
      },
    ],
    axes: [
      axis(palette, { label: 'LLM calls per run', size: 56, values: valuesWith((v) => formatDecimal(v)) }),
      axis(palette, { label: 'Cost per run (USD)', values: valuesWith(formatUsd) }),
    ],
  };
}
