/**
 * The chart table, Overview part: each chart defined once, with its series,
 * axes, CSV columns and text summary (chart-kit.ts builds the data and the
 * uPlot options from a definition). The Efficiency and Errors charts are in
 * their own files so they load with their (lazy) tabs. Targets come from
 * where the API defines them.
 */
import { SUCCESS_RATE_TARGET } from '../../../functions/domain/targets';
import type { Bucket } from '../api-types';
import {
  axis,
  bucketWord,
  type ChartDef,
  countAxis,
  countDefined,
  DURATION_STEPS_MS,
  peakText,
  percentAxis,
  rangeText,
  type SeriesDef,
  sum,
  usdTick,
  valuesWith,
  withData,
} from '../chart-kit';
import {
  formatCompact,
  formatCount,
  formatDuration,
  formatDurationTicks,
  formatPercent,
  formatUsd,
} from '../format';
import { hints } from '../literacy';

/** Fewer runs than this in a bucket make its p95 a guess (one run in twenty is the p95). */
export const P95_MIN_RUNS = 20;

const percent = (value: number | null) => formatPercent(value);
const rateScale = { rate: { range: [0, 1] as [number, number] } };

/** A line of one figure per bucket. */
function line(
  label: string,
  value: SeriesDef['value'],
  format: SeriesDef['format'],
  color: SeriesDef['color'],
  extra: Partial<SeriesDef> = {},
): SeriesDef {
  return { label, value, format, look: 'line', color, ...extra };
}

/** The token counts, in the order of their lines, CSV columns and summary. */
const TOKENS = [
  ['input', 'Input', 'primary'],
  ['output', 'Output', 'secondary'],
  ['cacheRead', 'Cache read', 'success'],
  ['cacheWrite', 'Cache write', 'tertiary'],
] as const;

type DurationKey = keyof Bucket['durationMs'];
/** The duration figures: the average is dashed and judged for anomalies; the p95 gets a small-sample mark. */
const DURATIONS: [DurationKey, string, SeriesDef['color'], Partial<SeriesDef>][] = [
  ['avg', 'Average', 'primary', { look: 'dashed', anomaly: 'durationMs.avg' }],
  ['p50', 'p50', 'success', {}],
  ['p95', 'p95', 'secondary', { minRuns: P95_MIN_RUNS }],
  ['p99', 'p99', 'tertiary', {}],
];

/** A rate against its target line; the success rate is also judged for anomalies. */
export function rateChart({
  title,
  measure,
  hint,
  pick,
  target,
  targetLabel,
  color,
  csvName,
  anomaly,
}: {
  title: string;
  measure: string;
  hint: string;
  pick: (b: Bucket) => number | null;
  target: number;
  targetLabel: string;
  color: 'success' | 'primary';
  csvName: string;
  anomaly: boolean;
}): ChartDef {
  return {
    title,
    measure,
    hint,
    series: [
      {
        label: title,
        value: pick,
        format: percent,
        look: 'line',
        color,
        scale: 'rate',
        ...(anomaly ? { anomaly: 'successRate' as const } : {}),
      },
      {
        label: `${formatPercent(target, 0)} ${targetLabel}`,
        value: () => target,
        format: (v) => formatPercent(v, 0),
        look: 'threshold',
        color: 'threshold',
        scale: 'rate',
      },
    ],
    scales: rateScale,
    axes: (palette) => [percentAxis(palette)],
    csv: {
      header: ['bucket_start', csvName, ...(anomaly ? ['executions'] : [])],
      row: (b) => [b.start, pick(b), ...(anomaly ? [b.executions] : [])],
    },
    summary: ({ column, label, granularity }) => {
      const rates = column(pick);
      const below = rates.filter((rate) => rate !== null && rate < target).length;
      const defined = countDefined(rates);
      return withData(
        rates,
        () =>
          `${title} ${rangeText(rates, label, percent)}. Below the ${formatPercent(target, 0)} ${targetLabel} in ${below} of ${defined} ${bucketWord(granularity, defined)}${anomaly ? ' with runs' : ''}.`,
      );
    },
  };
}

export const overviewCharts = {
  executions: {
    title: 'Executions',
    measure: 'Successful and failed runs',
    series: [
      // Stacking: failures are drawn as the full bar, successes over its lower part.
      {
        label: 'Failures',
        value: (b) => b.executions,
        legend: (b) => b.failures,
        format: formatCount,
        look: 'bar',
        color: 'failure',
        anomaly: 'executions',
      },
      { label: 'Successes', value: (b) => b.successes, format: formatCount, look: 'bar', color: 'success' },
    ],
    axes: (palette) => [countAxis(palette)],
    csv: {
      header: ['bucket_start', 'executions', 'successes', 'failures'],
      row: (b) => [b.start, b.executions, b.successes, b.failures],
    },
    summary: ({ column, label }) => {
      const totals = column((b) => b.executions);
      const runs = sum(totals);
      if (runs === 0) return 'No runs.';
      const failed = sum(column((b) => b.failures));
      return `${formatCount(runs)} runs, ${formatCount(failed)} failed (${formatPercent(failed / runs)}); ${peakText(totals, label, formatCount)}.`;
    },
  },
  successRate: rateChart({
    title: 'Success rate',
    measure: 'Share of runs that succeeded',
    hint: hints.successRate,
    pick: (b) => b.successRate,
    target: SUCCESS_RATE_TARGET,
    targetLabel: 'threshold',
    color: 'success',
    csvName: 'success_rate',
    anomaly: true,
  }),
  cost: {
    title: 'Cost and cost per run',
    measure: 'Total cost (left) and cost per run (right)',
    hint: hints.cost,
    series: [
      {
        label: 'Total cost',
        value: (b) => b.costUsd,
        format: formatUsd,
        look: 'bar',
        color: 'primary',
        fillAlpha: '55',
        scale: 'usd',
        anomaly: 'costUsd',
      },
      {
        label: 'Cost per run',
        value: (b) => b.costPerRunUsd,
        format: formatUsd,
        look: 'line',
        color: 'secondary',
        scale: 'perRun',
        width: 2.5,
      },
    ],
    scales: {
      usd: { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] },
      perRun: { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 0.01] },
    },
    axes: (palette) => [
      axis(palette, { scale: 'usd', label: 'Total cost (USD)', values: valuesWith(usdTick) }),
      axis(palette, {
        scale: 'perRun',
        side: 1,
        label: 'Cost per run (USD)',
        grid: { show: false },
        values: valuesWith(formatUsd),
      }),
    ],
    csv: {
      header: ['bucket_start', 'cost_usd', 'cost_per_run_usd', 'executions'],
      row: (b) => [b.start, b.costUsd, b.costPerRunUsd, b.executions],
    },
    summary: ({ column, label }) => {
      const totals = column((b) => b.costUsd);
      const perRun = column((b) => b.costPerRunUsd);
      return withData(
        perRun,
        () =>
          `Total cost ${formatUsd(sum(totals))}; ${peakText(totals, label, formatUsd)}. Cost per run ${rangeText(perRun, label, formatUsd)}.`,
      );
    },
  },
  tokens: {
    title: 'Token usage',
    measure: 'Input, output, cache read and cache write tokens',
    hint: hints.tokens,
    series: TOKENS.map(([key, label, color]) => line(label, (b) => b.tokens[key], formatCompact, color)),
    axes: (palette) => [countAxis(palette)],
    csv: {
      header: ['bucket_start', 'input_tokens', 'output_tokens', 'cache_read_tokens', 'cache_write_tokens'],
      row: (b) => [b.start, ...TOKENS.map(([key]) => b.tokens[key])],
    },
    summary: ({ column }) => {
      const totals = TOKENS.map(([key]) => sum(column((b) => b.tokens[key])));
      const parts = TOKENS.map(
        ([, label], index) => `${label.toLowerCase()} ${formatCompact(totals[index])}`,
      );
      return sum(totals) > 0 ? `Tokens in total: ${parts.join(', ')}.` : 'No data.';
    },
  },
  duration: {
    title: 'Duration',
    measure: 'Average, p50, p95 and p99 run duration',
    hint: `${hints.duration} A hollow mark: fewer than ${P95_MIN_RUNS} runs in that bucket, too few for a p95.`,
    series: DURATIONS.map(([key, label, color, extra]) =>
      line(label, (b) => b.durationMs[key], formatDuration, color, extra),
    ),
    axes: (palette) => [
      axis(palette, { values: (_u, ticks) => formatDurationTicks(ticks), incrs: DURATION_STEPS_MS }),
    ],
    csv: {
      header: [
        'bucket_start',
        'duration_avg_ms',
        'duration_p50_ms',
        'duration_p95_ms',
        'duration_p99_ms',
        'executions',
      ],
      row: (b) => [b.start, ...DURATIONS.map(([key]) => b.durationMs[key]), b.executions],
    },
    summary: ({ column, label }) => {
      const of = (key: DurationKey) => column((b) => b.durationMs[key]);
      const avg = of('avg');
      return withData(
        avg,
        () =>
          `Average duration ${rangeText(avg, label, formatDuration)}. The median (p50) ${rangeText(of('p50'), label, formatDuration)}. ` +
          `The p95 ${peakText(of('p95'), label, formatDuration)}; the p99 ${peakText(of('p99'), label, formatDuration)}.`,
      );
    },
  },
} satisfies Record<string, ChartDef>;
