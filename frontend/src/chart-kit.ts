/**
 * What every chart is built from: one definition (charts/) turns into
 * both the data (uPlot's columnar `[xs, ...ys]`, the CSV rows, a sentence for
 * screen readers) and the uPlot options, so a series, its legend and its
 * marks can never disagree. Also the axis and summary helpers the
 * definitions share.
 */
import uPlot from 'uplot';
import { ANOMALY_SIGMAS, BASELINE_BUCKETS } from '../../functions/domain/anomalies';
import type { AnomalyFigure, Bucket, Granularity } from './api-types';
import type { Cell } from './csv';
import {
  formatBucketLabel,
  formatCompact,
  formatCount,
  formatDuration,
  formatPercent,
  formatUsd,
  NO_VALUE,
  zonedDate,
} from './format';
import type { Palette } from './theme';

export type Column = (number | null)[];
export type Format = (value: number | null) => string;
export type ChartOptions = Omit<uPlot.Options, 'width' | 'height'>;

export interface ChartModel {
  /** uPlot's aligned data: xs first, then one column per series (marks included). */
  data: [number[], ...Column[]];
  /** The bucket behind each x position, for the drill-down and the legend. */
  buckets: Bucket[];
  csvHeader: string[];
  csvRows: Cell[][];
  /** A text alternative for screen readers. */
  summary: string;
  /** Index of the bucket still in progress ("so far"), or null when every bucket is complete. */
  partial: number | null;
  /** One line per flagged bucket: its figure, value and baseline (the chart's visible key). */
  anomalies: string[];
}

/** The current model of a chart, read by legend formatters (options outlive one data set). */
export interface ModelSource {
  current: ChartModel | null;
}

/** The figures the API judges, with how a reader names and formats them. */
const FIGURES: Record<AnomalyFigure, { name: string; of: (b: Bucket) => number | null; format: Format }> = {
  costUsd: { name: 'cost', of: (b) => b.costUsd, format: formatUsd },
  'durationMs.avg': { name: 'average duration', of: (b) => b.durationMs.avg, format: formatDuration },
  executions: { name: 'runs', of: (b) => b.executions, format: formatCount },
  successRate: { name: 'success rate', of: (b) => b.successRate, format: (v) => formatPercent(v) },
};

export const ANOMALY_RULE = `more than ${ANOMALY_SIGMAS} standard deviations from the ${BASELINE_BUCKETS} days before (an hour: that hour of each)`;

export interface SeriesDef {
  label: string;
  /** The value drawn for a bucket. */
  value: (b: Bucket) => number | null;
  /** The value the legend reads when it differs from the drawn one (a stacked bar). */
  legend?: (b: Bucket) => number | null;
  format: Format;
  look: 'bar' | 'line' | 'dashed' | 'threshold';
  color: keyof Palette;
  /** Hex alpha of a bar's fill. */
  fillAlpha?: string;
  scale?: string;
  width?: number;
  /** The API figure this series shows: its flagged buckets get a marker on it. */
  anomaly?: AnomalyFigure;
  /** A percentile needs this many runs in a bucket; fewer get a small-sample mark on it. */
  minRuns?: number;
}

export interface ChartDef {
  title: string;
  /** The subtitle's measure. */
  measure: string;
  hint?: string;
  series: SeriesDef[];
  scales?: uPlot.Scales;
  /** The y axes (the time axis is shared). */
  axes: (palette: Palette) => uPlot.Axis[];
  csv: { header: string[]; row: (b: Bucket) => Cell[] };
  summary: (input: SummaryInput) => string;
}

interface SummaryInput {
  buckets: Bucket[];
  column: (pick: (b: Bucket) => number | null) => Column;
  label: (index: number) => string;
  granularity: Granularity;
}

interface Context {
  granularity: Granularity;
  tz: string;
  /** Epoch ms of "now", to find the bucket still in progress; none when absent. */
  nowMs?: number;
}

const BUCKET_MS: Record<Granularity, number> = { hour: 3_600_000, day: 86_400_000 };

/** Unix seconds of a bucket start; uPlot's time scale counts seconds. */
export function bucketSeconds(bucket: Bucket): number {
  return Date.parse(bucket.start) / 1000;
}

/**
 * The index of the last bucket when it has not ended yet at `nowMs`: its
 * figures are partial (a day at noon holds half a day's runs), so it is drawn
 * as "so far" and never judged as an anomaly.
 */
function partialBucketIndex(buckets: Bucket[], granularity: Granularity, nowMs: number): number | null {
  const last = buckets.length - 1;
  const start = Date.parse(buckets[last]?.start ?? '');
  return start <= nowMs && nowMs < start + BUCKET_MS[granularity] ? last : null;
}

/** "$12.30 against a baseline of $4.10": what a flagged bucket's figure is, and what was usual. */
function anomalyText(figure: AnomalyFigure, bucket: Bucket): string {
  const { name, of, format } = FIGURES[figure];
  const baseline = bucket.baselines[figure];
  return `${name} ${format(of(bucket))}, baseline ${baseline === undefined ? NO_VALUE : format(baseline)}`;
}

/** Runs in a bucket too few for a percentile, as the small-sample mark says it. */
function fewRunsText(runs: number, minRuns: number, label: string): string {
  return `${formatCount(runs)} ${runs === 1 ? 'run' : 'runs'}: too few for a ${label} (needs ${minRuns})`;
}

const hasFewRuns = (b: Bucket, minRuns: number) => b.executions > 0 && b.executions < minRuns;

/** The data, CSV and summary of one chart definition over the API's buckets. */
export function chartModel(def: ChartDef, allBuckets: Bucket[], context: Context): ChartModel {
  const partial =
    context.nowMs === undefined ? null : partialBucketIndex(allBuckets, context.granularity, context.nowMs);
  // The API judges the bucket in progress against full ones; a half-finished day always looks low.
  const buckets = allBuckets.map((b, index) =>
    index === partial && b.anomalies.length > 0 ? { ...b, anomalies: [] } : b,
  );
  const label = (index: number) =>
    `${formatBucketLabel(buckets[index]?.start ?? '', context.granularity, context.tz)}${index === partial ? ' (so far)' : ''}`;
  const column = (pick: (bucket: Bucket) => number | null) => buckets.map(pick);
  const data: [number[], ...Column[]] = [buckets.map(bucketSeconds)];
  const anomalies: string[] = [];
  const notes: string[] = [];
  for (const series of def.series) {
    data.push(column(series.value));
    const figure = series.anomaly;
    if (figure) {
      data.push(column((b) => (b.anomalies.includes(figure) ? series.value(b) : null)));
      buckets.forEach((b, index) => {
        if (b.anomalies.includes(figure)) anomalies.push(`${label(index)}: ${anomalyText(figure, b)}`);
      });
    }
    const minRuns = series.minRuns;
    if (minRuns) {
      data.push(column((b) => (hasFewRuns(b, minRuns) ? series.value(b) : null)));
      const few = buckets.filter((b) => hasFewRuns(b, minRuns)).length;
      if (few > 0)
        notes.push(
          `The ${series.label} of ${few} ${bucketWord(context.granularity, few)} rests on fewer than ${minRuns} runs (marked).`,
        );
    }
  }
  const described = def.summary({ buckets, column, label, granularity: context.granularity });
  const hasAnomalySeries = def.series.some((s) => s.anomaly);
  const extra = [
    ...(hasAnomalySeries && described !== 'No data.' && described !== 'No runs.'
      ? [anomalies.length > 0 ? `Anomalies: ${anomalies.join('; ')}.` : 'No anomalies.']
      : []),
    ...(described.startsWith('No ') ? [] : notes),
  ];
  return {
    data,
    buckets,
    partial,
    anomalies,
    // The export says which bucket is still "so far", as the chart shades it.
    csvHeader: [...def.csv.header, 'complete'],
    csvRows: buckets.map((b, index) => [...def.csv.row(b), index === partial ? 'false' : 'true']),
    summary: [described, ...extra].join(' '),
  };
}

// Tick steps a reader can count in: 1 s … 30 s, 1 min … 30 min, 1 h … (not 200,000 ms).
export const DURATION_STEPS_MS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14_400].map(
  (s) => s * 1000,
);
// Counts tick in whole runs and tokens (never 0.5 runs): 1, 2, 5, 10, 20, 50, …
const COUNT_STEPS = Array.from(
  { length: 28 },
  (_, index) => [1, 2, 5][index % 3]! * 10 ** Math.floor(index / 3),
);
// uPlot's time-axis formats with 24-hour clock times, as in the tables: one row per tick step
// (step, format, then the prefix when the year, month, day, hour, minute or second rolls over).
export const TIME_AXIS_24H: uPlot.Axis.Values = [
  [86_400 * 365, '{YYYY}', null, null, null, null, null, null, 1],
  [86_400 * 28, '{MMM}', '\n{YYYY}', null, null, null, null, null, 1],
  [86_400, '{MMM} {D}', '\n{YYYY}', null, null, null, null, null, 1],
  [3600, '{HH}:{mm}', '\n{MMM} {D} {YYYY}', null, '\n{MMM} {D}', null, null, null, 1],
  [60, '{HH}:{mm}', '\n{MMM} {D} {YYYY}', null, '\n{MMM} {D}', null, null, null, 1],
];
const BUCKET_SECONDS: Record<Granularity, number> = { hour: 3600, day: 86_400 };
/**
 * uPlot's time-tick steps from an hour up (its own list, in seconds), of which
 * a chart takes those at least one bucket long: a day chart ticks only at
 * midnights, where uPlot, given room, would also tick at 08:00 and 16:00,
 * times that are no bucket of the chart.
 */
const TIME_STEPS = [
  ...[1, 2, 3, 4, 6, 8, 12].map((hours) => hours * 3600),
  ...[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 15].map((days) => days * 86_400),
  ...[1, 2, 3, 4, 6].map((months) => months * 30 * 86_400),
  ...[1, 2, 5, 10].map((years) => years * 365 * 86_400),
];
export const timeSteps = (granularity: Granularity): number[] =>
  TIME_STEPS.filter((step) => step >= BUCKET_SECONDS[granularity]);
const FONT = '12px system-ui, sans-serif';

export const usdTick = (value: number) => (value >= 100 ? `$${formatCompact(value)}` : formatUsd(value));

/** Past this many distinct labels the width cache starts again, so a long live session cannot grow it without end. */
const MAX_CACHED_LABELS = 2_000;
const labelWidths = new Map<string, number>();

/**
 * The widest of some tick labels, in CSS pixels at the axis font. Each text
 * is measured once for all charts: the plot's context is saved, given the
 * font and restored only when a label is new, where before that happened
 * for every axis on every one of uPlot's size passes of every chart.
 */
function widestLabel(ctx: CanvasRenderingContext2D, labels: readonly string[]): number {
  const unmeasured = labels.filter((text) => !labelWidths.has(text));
  if (unmeasured.length > 0) {
    if (labelWidths.size + unmeasured.length > MAX_CACHED_LABELS) labelWidths.clear();
    ctx.save();
    ctx.font = FONT;
    for (const text of unmeasured) labelWidths.set(text, ctx.measureText(text).width);
    ctx.restore();
  }
  return Math.max(...labels.map((text) => labelWidths.get(text) ?? 0));
}

/**
 * An axis as wide as its widest tick label plus its title, so a title never
 * overlaps the ticks whatever their length ($0.0125 or 1,200).
 */
const fitSize: uPlot.Axis.Size = (self, values, axisIndex) => {
  const axis = self.axes[axisIndex];
  const title = axis?.label ? 20 : 0;
  if (!values || values.length === 0) return 40 + title;
  const widest = widestLabel(self.ctx, values.map(String));
  return Math.ceil(widest) + 18 + title;
};

export function axis(palette: Palette, extra: uPlot.Axis = {}): uPlot.Axis {
  return {
    stroke: palette.axis,
    grid: { stroke: palette.grid, width: 1 },
    ticks: { stroke: palette.grid, width: 1 },
    font: FONT,
    labelFont: FONT,
    labelSize: 18,
    size: fitSize,
    ...extra,
  };
}

export const valuesWith =
  (format: (value: number) => string): uPlot.Axis.Values =>
  (_u, ticks) =>
    ticks.map((tick) => format(tick));

export const countAxis = (palette: Palette, extra: uPlot.Axis = {}) =>
  axis(palette, { values: valuesWith(formatCompact), incrs: COUNT_STEPS, ...extra });

export const percentAxis = (palette: Palette) =>
  axis(palette, { scale: 'rate', values: valuesWith((tick) => formatPercent(tick, 0)) });

const bars = uPlot.paths.bars?.({ size: [0.7, 48], gap: 1 });
export const noPath = () => null;

/** The legend value of a series at the cursor, from the bucket when the drawn value is not the one to read. */
function legendOf(series: SeriesDef, source: ModelSource): uPlot.Series.Value {
  return (_u, value, _s, index) => {
    const bucket = index == null ? undefined : source.current?.buckets[index];
    return series.legend && bucket ? series.format(series.legend(bucket)) : series.format(value);
  };
}

function drawnSeries(series: SeriesDef, palette: Palette, source: ModelSource): uPlot.Series {
  const color = palette[series.color];
  const common = { label: series.label, value: legendOf(series, source), points: { show: false } };
  const scale = series.scale ? { scale: series.scale } : {};
  switch (series.look) {
    case 'bar':
      return { ...common, ...scale, fill: `${color}${series.fillAlpha ?? ''}`, stroke: color, paths: bars };
    case 'threshold':
      return { ...common, ...scale, stroke: palette.threshold, width: 1.5, dash: [6, 4] };
    default:
      return {
        ...common,
        ...scale,
        stroke: color,
        width: series.width ?? 2,
        spanGaps: false,
        // A bucket between two gaps has no line to sit on: draw it as a point.
        points: { show: true, size: 5, filter: isolatedPoints },
        ...(series.look === 'dashed' ? { dash: [4, 3] } : {}),
      };
  }
}

/** Points only where a value has no neighbour: a single-bucket value would vanish from a line. */
function isolatedPoints(self: uPlot, seriesIndex: number): number[] {
  const values = self.data[seriesIndex] ?? [];
  const isolated: number[] = [];
  for (let i = 0; i < values.length; i++)
    if (values[i] != null && values[i - 1] == null && values[i + 1] == null) isolated.push(i);
  return isolated;
}

/** A points-only series that marks buckets of another one. */
function markSeries(
  label: string,
  palette: Palette,
  scale: string | undefined,
  hollow: boolean,
  describe: (bucket: Bucket) => string | null,
  source: ModelSource,
): uPlot.Series {
  return {
    label,
    ...(scale ? { scale } : {}),
    stroke: palette.threshold,
    fill: hollow ? palette.grid : palette.threshold,
    paths: noPath,
    points: { show: true, size: hollow ? 9 : 11, width: 2 },
    value: (_u, _v, _s, index) => {
      const bucket = index == null ? undefined : source.current?.buckets[index];
      return (bucket && describe(bucket)) ?? 'none';
    },
  };
}

/** The x axis and cursor every time chart shares. */
function timeBase(palette: Palette, timeZone: string, granularity: Granularity): ChartOptions {
  const half = BUCKET_SECONDS[granularity] / 2;
  return {
    tzDate: (seconds) => zonedDate(seconds, timeZone),
    cursor: { drag: { x: false, y: false }, points: { size: 7 } },
    legend: { live: true },
    scales: {
      // Pad by half a bucket so the first and last bars are not cut in half.
      x: { time: true, range: (_u, min, max) => [min - half, max + half] },
      // Counts, costs and durations start at zero: a floating baseline exaggerates change.
      y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.05 : 1] },
    },
    series: [
      {
        // The legend's time in the view's zone, not the browser's.
        value: (_u, seconds) =>
          seconds == null
            ? NO_VALUE
            : formatBucketLabel(new Date(seconds * 1000).toISOString(), granularity, timeZone),
      },
    ],
    axes: [axis(palette, { values: TIME_AXIS_24H, incrs: timeSteps(granularity), size: 44 })],
  };
}

/** The uPlot options of one chart definition; marks follow their series in the same order as the data. */
export function chartOptions(
  def: ChartDef,
  palette: Palette,
  timeZone: string,
  granularity: Granularity,
  source: ModelSource,
): ChartOptions {
  const base = timeBase(palette, timeZone, granularity);
  const series: uPlot.Series[] = [...base.series];
  for (const s of def.series) {
    series.push(drawnSeries(s, palette, source));
    const figure = s.anomaly;
    if (figure)
      series.push(
        markSeries(
          figure === 'successRate' && s.label !== 'Success rate' ? 'Success-rate anomaly' : 'Anomaly',
          palette,
          s.scale,
          false,
          (b) => (b.anomalies.includes(figure) ? anomalyText(figure, b) : null),
          source,
        ),
      );
    const minRuns = s.minRuns;
    if (minRuns)
      series.push(
        markSeries(
          'Few runs',
          palette,
          s.scale,
          true,
          (b) => (hasFewRuns(b, minRuns) ? fewRunsText(b.executions, minRuns, s.label) : null),
          source,
        ),
      );
  }
  return {
    ...base,
    scales: { ...base.scales, ...def.scales },
    series,
    axes: [...base.axes!, ...def.axes(palette)],
  };
}

// Summary helpers the definitions share.

export function sum(values: Column): number {
  let total = 0;
  for (const value of values) total += value ?? 0;
  return total;
}

export function countDefined(values: Column): number {
  return values.filter((value) => value !== null).length;
}

export function bucketWord(granularity: Granularity, count: number): string {
  return `${granularity}${count === 1 ? '' : 's'}`;
}

export function withData(values: Column, describe: () => string, hasData = countDefined(values) > 0): string {
  return hasData ? describe() : 'No data.';
}

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
export function rangeText(values: Column, label: (index: number) => string, format: Format): string {
  const found = extremes(values);
  if (!found) return 'has no data';
  if (found.min === found.max) return `stayed at ${format(found.min)}`;
  return `ranged from ${format(found.min)} (${label(found.minIndex)}) to ${format(found.max)} (${label(found.maxIndex)})`;
}

/** "highest on Nov 5 with $12.30" */
export function peakText(values: Column, label: (index: number) => string, format: Format): string {
  const found = extremes(values);
  return found ? `highest on ${label(found.maxIndex)} with ${format(found.max)}` : 'no data';
}
