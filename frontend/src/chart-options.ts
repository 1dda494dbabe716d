/**
 * uPlot options for each chart, built from a palette so that charts follow
 * the theme. Sizes are left out: the <Chart> component measures its box.
 */
import uPlot from 'uplot';
import { CACHE_HIT_TARGET, SUCCESS_RATE_TARGET } from '../../functions/domain/targets';
import type { Granularity } from './api-types';
import {
  formatBucketLabel,
  formatCompact,
  formatCount,
  formatDuration,
  formatDurationTicks,
  formatPercent,
  formatUsd,
  zonedDate,
} from './format';
import type { TimeChartKind } from './series';
import type { Palette } from './theme';

export type ChartOptions = Omit<uPlot.Options, 'width' | 'height'>;

const bars = uPlot.paths.bars?.({ size: [0.7, 48], gap: 1 });
const noPath = () => null;
// Tick steps a reader can count in: 1 s … 30 s, 1 min … 30 min, 1 h … (not 200,000 ms).
const DURATION_STEPS_MS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14_400].map(
  (s) => s * 1000,
);
// Counts tick in whole runs and tokens (never 0.5 runs): 1, 2, 5, 10, 20, 50, …
const COUNT_STEPS = Array.from(
  { length: 28 },
  (_, index) => [1, 2, 5][index % 3]! * 10 ** Math.floor(index / 3),
);
// uPlot's time-axis formats with 24-hour clock times, as in the tables: one row per tick step
// (step, format, then the prefix when the year, month, day, hour, minute or second rolls over).
const TIME_AXIS_24H: uPlot.Axis.Values = [
  [86_400 * 365, '{YYYY}', null, null, null, null, null, null, 1],
  [86_400 * 28, '{MMM}', '\n{YYYY}', null, null, null, null, null, 1],
  [86_400, '{MMM} {D}', '\n{YYYY}', null, null, null, null, null, 1],
  [3600, '{HH}:{mm}', '\n{MMM} {D} {YYYY}', null, '\n{MMM} {D}', null, null, null, 1],
  [60, '{HH}:{mm}', '\n{MMM} {D} {YYYY}', null, '\n{MMM} {D}', null, null, null, 1],
];
const usdTick = (value: number) => (value >= 100 ? `$${formatCompact(value)}` : formatUsd(value));
const BUCKET_SECONDS: Record<Granularity, number> = { hour: 3600, day: 86_400 };

function axis(palette: Palette, extra: uPlot.Axis = {}): uPlot.Axis {
  return {
    stroke: palette.axis,
    grid: { stroke: palette.grid, width: 1 },
    ticks: { stroke: palette.grid, width: 1 },
    font: '12px system-ui, sans-serif',
    labelFont: '12px system-ui, sans-serif',
    ...extra,
  };
}

const valuesWith =
  (format: (value: number) => string): uPlot.Axis.Values =>
  (_u, ticks) =>
    ticks.map((tick) => format(tick));

const legendValue =
  (format: (value: number | null) => string) =>
  (_u: uPlot, value: number | null): string =>
    format(value);

const countAxis = (palette: Palette, size: number) =>
  axis(palette, { values: valuesWith(formatCompact), incrs: COUNT_STEPS, size });

const percentAxis = (palette: Palette) =>
  axis(palette, { scale: 'rate', values: valuesWith((tick) => formatPercent(tick, 0)), size: 56 });

function line(
  label: string,
  stroke: string,
  format: (value: number | null) => string,
  extra: uPlot.Series = {},
): uPlot.Series {
  return {
    label,
    stroke,
    width: 2,
    spanGaps: false,
    points: { show: false },
    value: legendValue(format),
    ...extra,
  };
}

function thresholdLine(label: string, palette: Palette, scale: string): uPlot.Series {
  return {
    label,
    scale,
    stroke: palette.threshold,
    width: 1.5,
    dash: [6, 4],
    points: { show: false },
    value: legendValue((value) => formatPercent(value, 0)),
  };
}

/** Options for one kind of time chart. */
export function timeChartOptions(
  kind: TimeChartKind,
  palette: Palette,
  timeZone: string,
  granularity: Granularity,
): ChartOptions {
  const half = BUCKET_SECONDS[granularity] / 2;
  const base: ChartOptions = {
    tzDate: (seconds) => zonedDate(seconds, timeZone),
    cursor: { drag: { x: false, y: false }, points: { size: 7 } },
    legend: { live: true },
    scales: {
      // Pad by half a bucket so the first and last bars are not cut in half.
      x: { time: true, range: (_u, min, max) => [min - half, max + half] },
      // Counts, costs and durations start at zero: a floating baseline exaggerates change.
      y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.05 : 1] },
    },
    // The legend's time in the view's zone, not the browser's.
    series: [
      {
        value: (_u, seconds) =>
          seconds == null
            ? '—'
            : formatBucketLabel(new Date(seconds * 1000).toISOString(), granularity, timeZone),
      },
    ],
    axes: [axis(palette, { values: TIME_AXIS_24H })],
  };
  const xSeries = base.series[0] as uPlot.Series;

  switch (kind) {
    case 'executions':
      return {
        ...base,
        series: [
          xSeries,
          {
            label: 'Failures',
            fill: palette.failure,
            stroke: palette.failure,
            paths: bars,
            points: { show: false },
            // The bar is drawn at the total height; the legend shows the failures alone.
            value: (u, _v, _s, index) =>
              index == null ? '—' : formatCount((u.data[1]?.[index] ?? 0) - (u.data[2]?.[index] ?? 0)),
          },
          {
            label: 'Successes',
            fill: palette.success,
            stroke: palette.success,
            paths: bars,
            points: { show: false },
            value: legendValue(formatCount),
          },
        ],
        axes: [base.axes![0]!, countAxis(palette, 48)],
      };
    case 'successRate':
    case 'cacheHitRate': {
      const isSuccess = kind === 'successRate';
      return {
        ...base,
        scales: { ...base.scales, rate: { range: [0, 1] } },
        series: [
          xSeries,
          line(
            isSuccess ? 'Success rate' : 'Cache hit rate',
            isSuccess ? palette.success : palette.primary,
            (v) => formatPercent(v),
            { scale: 'rate' },
          ),
          thresholdLine(
            isSuccess
              ? `${formatPercent(SUCCESS_RATE_TARGET, 0)} threshold`
              : `${formatPercent(CACHE_HIT_TARGET, 0)} target`,
            palette,
            'rate',
          ),
        ],
        axes: [base.axes![0]!, percentAxis(palette)],
      };
    }
    case 'cost':
      return {
        ...base,
        scales: {
          ...base.scales,
          usd: { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] },
          perRun: { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 0.01] },
        },
        series: [
          xSeries,
          {
            label: 'Total cost',
            scale: 'usd',
            fill: `${palette.primary}55`,
            stroke: palette.primary,
            paths: bars,
            points: { show: false },
            value: legendValue(formatUsd),
          },
          line('Cost per run', palette.secondary, formatUsd, { scale: 'perRun', width: 2.5 }),
        ],
        axes: [
          base.axes![0]!,
          axis(palette, {
            scale: 'usd',
            label: 'Total cost (USD)',
            labelSize: 18,
            size: 72,
            values: valuesWith(usdTick),
          }),
          axis(palette, {
            scale: 'perRun',
            side: 1,
            label: 'Cost per run (USD)',
            labelSize: 18,
            size: 72,
            grid: { show: false },
            values: valuesWith(formatUsd),
          }),
        ],
      };
    case 'tokens':
      return {
        ...base,
        series: [
          xSeries,
          line('Input', palette.primary, formatCompact),
          line('Output', palette.secondary, formatCompact),
          line('Cache read', palette.success, formatCompact),
          line('Cache write', palette.tertiary, formatCompact),
        ],
        axes: [base.axes![0]!, countAxis(palette, 52)],
      };
    case 'duration':
      return {
        ...base,
        series: [
          xSeries,
          line('Average', palette.primary, formatDuration, { dash: [4, 3] }),
          line('p50', palette.success, formatDuration),
          line('p95', palette.secondary, formatDuration),
          line('p99', palette.tertiary, formatDuration),
        ],
        axes: [
          base.axes![0]!,
          axis(palette, {
            values: (_u, ticks) => formatDurationTicks(ticks),
            incrs: DURATION_STEPS_MS,
            size: 64,
          }),
        ],
      };
    case 'failures':
      return {
        ...base,
        series: [
          xSeries,
          {
            label: 'Failures',
            fill: `${palette.failure}aa`,
            stroke: palette.failure,
            paths: bars,
            points: { show: false },
            value: legendValue(formatCount),
          },
          {
            label: 'Anomaly',
            stroke: palette.threshold,
            fill: palette.threshold,
            paths: noPath,
            points: { show: true, size: 11, width: 2 },
            value: (_u, value) => (value == null ? '—' : 'yes'),
          },
        ],
        axes: [base.axes![0]!, countAxis(palette, 48)],
      };
  }
}

/** LLM calls against cost: points only, one per bucket. */
export function scatterOptions(palette: Palette): ChartOptions {
  return {
    mode: 1,
    cursor: { drag: { x: false, y: false }, points: { size: 9 } },
    scales: { x: { time: false } },
    series: [
      { label: 'LLM calls', value: legendValue(formatCount) },
      {
        label: 'Cost',
        stroke: palette.primary,
        fill: `${palette.primary}88`,
        paths: noPath,
        points: { show: true, size: 7 },
        value: legendValue(formatUsd),
      },
    ],
    axes: [
      axis(palette, { label: 'LLM calls per bucket', labelSize: 18, values: valuesWith(formatCount) }),
      axis(palette, {
        label: 'Cost per bucket (USD)',
        labelSize: 18,
        size: 60,
        values: valuesWith(formatUsd),
      }),
    ],
  };
}
