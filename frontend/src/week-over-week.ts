/**
 * Week over week: duration and cost per run as 7-day rolling averages over
 * the last two weeks, and a plain sentence comparing the last 7 days with
 * the same 7 days a week earlier ("20 % slower than last week").
 *
 * Averages are per run over the whole window (7 days of runs pooled), so a
 * busy day weighs as much as its runs and an empty day not at all. The day
 * in progress is part of the last window: a per-run average does not sink
 * with the hours still to come, as a total would.
 */
import { addDays } from '../../functions/domain/local-time';
import type { Bucket } from './api-types';
import {
  axis,
  bucketSeconds,
  type ChartModel,
  type ChartOptions,
  type Column,
  DURATION_STEPS_MS,
  TIME_AXIS_24H,
  timeSteps,
  valuesWith,
} from './chart-kit';
import {
  formatBucketLabel,
  formatDuration,
  formatDurationTicks,
  formatUsd,
  NO_VALUE,
  zonedDate,
} from './format';
import type { Palette } from './theme';

const WINDOW_DAYS = 7;
/** Days drawn: this week and last week. */
export const SHOWN_DAYS = 14;
/** Days requested: the shown ones and the 6 before the first, which its rolling average needs. */
export const REQUEST_DAYS = SHOWN_DAYS + WINDOW_DAYS - 1;

/** The from/to (local days, inclusive) of the daily timeseries the card needs, ending on `lastDay`. */
export function weekRange(lastDay: string): { from: string; to: string } {
  return { from: addDays(lastDay, -(REQUEST_DAYS - 1)), to: lastDay };
}

interface Pooled {
  runs: number;
  durationRuns: number;
  durationMs: number;
  costRuns: number;
  costUsd: number;
}

/** Per-run averages over buckets[end - 6 … end]; null where the window has no runs. */
function rolling(
  buckets: Bucket[],
  end: number,
): { durationMs: number | null; costPerRunUsd: number | null } {
  const pooled: Pooled = { runs: 0, durationRuns: 0, durationMs: 0, costRuns: 0, costUsd: 0 };
  for (let i = Math.max(0, end - WINDOW_DAYS + 1); i <= end; i++) {
    const b = buckets[i];
    if (!b || b.executions === 0) continue;
    pooled.runs += b.executions;
    if (b.durationMs.avg !== null) {
      pooled.durationRuns += b.executions;
      pooled.durationMs += b.durationMs.avg * b.executions;
    }
    if (b.costPerRunUsd !== null) {
      pooled.costRuns += b.executions;
      pooled.costUsd += b.costPerRunUsd * b.executions;
    }
  }
  return {
    durationMs: pooled.durationRuns > 0 ? pooled.durationMs / pooled.durationRuns : null,
    costPerRunUsd: pooled.costRuns > 0 ? pooled.costUsd / pooled.costRuns : null,
  };
}

/** "20 % slower than last week", "about the same as last week", or null without both weeks. */
export function compareWeeks(
  now: number | null,
  before: number | null,
  words: [higher: string, lower: string],
): string | null {
  if (now === null || before === null || before === 0) return null;
  const change = Math.round((now / before - 1) * 100);
  if (change === 0) return 'about the same as last week';
  return `${Math.abs(change)} % ${change > 0 ? words[0] : words[1]} than last week`;
}

export interface WeekModel extends ChartModel {
  /** The plain sentences: one for duration, one for cost per run. */
  sentences: string[];
}

/**
 * The model of the week-over-week card from daily buckets ending on the last
 * day to compare (REQUEST_DAYS of them; fewer at the start of the data).
 */
export function weekModel(all: Bucket[], tz: string): WeekModel {
  const first = Math.max(0, all.length - SHOWN_DAYS);
  const shown = all.slice(first);
  const averages = shown.map((_, index) => rolling(all, first + index));
  const duration: Column = averages.map((a) => a.durationMs);
  const cost: Column = averages.map((a) => a.costPerRunUsd);
  const last = all.length - 1;
  const now = rolling(all, last);
  const before = rolling(all, last - WINDOW_DAYS);
  const haveLastWeek = last - WINDOW_DAYS >= 0;
  const durationChange = haveLastWeek
    ? compareWeeks(now.durationMs, before.durationMs, ['slower', 'faster'])
    : null;
  const costChange = haveLastWeek
    ? compareWeeks(now.costPerRunUsd, before.costPerRunUsd, ['dearer', 'cheaper'])
    : null;
  const lastLabel = formatBucketLabel(all[last]?.start ?? '', 'day', tz);
  const sentences =
    now.durationMs === null
      ? [`No runs in the 7 days to ${lastLabel}.`]
      : [
          `Runs took ${formatDuration(now.durationMs)} on average in the 7 days to ${lastLabel}, ${
            durationChange ?? 'with no runs the week before to compare'
          }${durationChange && before.durationMs !== null ? ` (${formatDuration(before.durationMs)})` : ''}.`,
          `A run cost ${formatUsd(now.costPerRunUsd)}, ${costChange ?? 'with nothing to compare'}${
            costChange && before.costPerRunUsd !== null ? ` (${formatUsd(before.costPerRunUsd)})` : ''
          }.`,
        ];
  return {
    data: [shown.map(bucketSeconds), duration, cost],
    buckets: shown,
    partial: null,
    anomalies: [],
    sentences,
    csvHeader: ['day_start', 'duration_avg_7d_ms', 'cost_per_run_7d_usd'],
    csvRows: shown.map((b, index) => [b.start, duration[index], cost[index]]),
    summary: sentences.join(' '),
  };
}

/** Two rolling averages on their own axes: duration (left) and cost per run (right). */
export function weekOptions(palette: Palette, timeZone: string): ChartOptions {
  return {
    tzDate: (seconds) => zonedDate(seconds, timeZone),
    cursor: { drag: { x: false, y: false }, points: { size: 7 } },
    scales: {
      x: { time: true, range: (_u, min, max) => [min - 43_200, max + 43_200] },
      ms: { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] },
      usd: { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 0.01] },
    },
    series: [
      {
        value: (_u, seconds) =>
          seconds == null
            ? NO_VALUE
            : formatBucketLabel(new Date(seconds * 1000).toISOString(), 'day', timeZone),
      },
      {
        label: 'Duration, 7-day average',
        scale: 'ms',
        stroke: palette.primary,
        width: 2.5,
        points: { show: true, size: 4 },
        value: (_u, v) => formatDuration(v),
      },
      {
        label: 'Cost per run, 7-day average',
        scale: 'usd',
        stroke: palette.secondary,
        width: 2.5,
        dash: [6, 3],
        points: { show: true, size: 4 },
        value: (_u, v) => formatUsd(v),
      },
    ],
    axes: [
      axis(palette, { values: TIME_AXIS_24H, incrs: timeSteps('day'), size: 44 }),
      axis(palette, {
        scale: 'ms',
        label: 'Duration',
        values: (_u, ticks) => formatDurationTicks(ticks),
        incrs: DURATION_STEPS_MS,
      }),
      axis(palette, {
        scale: 'usd',
        side: 1,
        label: 'Cost per run (USD)',
        grid: { show: false },
        values: valuesWith(formatUsd),
      }),
    ],
  };
}
