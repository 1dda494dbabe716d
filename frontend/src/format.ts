/**
 * Number and time formatting for cards, tooltips, tables and summaries.
 * Every formatter takes null for "no data" and says so with an em dash,
 * so a missing value never renders as NaN, Infinity or $0.
 */

import { wallClock } from '../../functions/domain/local-time';

export const NO_VALUE = '—';

const integerFormat = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const compactFormat = new Intl.NumberFormat('en-US', { notation: 'compact', maximumFractionDigits: 1 });

function isNumber(value: number | null | undefined): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

/** 12,345 */
export function formatCount(value: number | null | undefined): string {
  return isNumber(value) ? integerFormat.format(value) : NO_VALUE;
}

/** 1.2M, 345K, 999: for token counts and axis ticks. */
export function formatCompact(value: number | null | undefined): string {
  return isNumber(value) ? compactFormat.format(value) : NO_VALUE;
}

/** 0.8734 → "87.3 %". A rate of exactly 0 stays "0 %", never NaN. */
export function formatPercent(rate: number | null | undefined, digits = 1): string {
  if (!isNumber(rate)) return NO_VALUE;
  const percent = rate * 100;
  if (percent === 0 || percent === 100) return `${percent} %`;
  return `${percent.toFixed(digits)} %`;
}

/**
 * US dollars with precision that suits the size: cents for totals, more
 * digits for per-run costs that are often fractions of a cent.
 */
export function formatUsd(value: number | null | undefined): string {
  if (!isNumber(value)) return NO_VALUE;
  const magnitude = Math.abs(value);
  if (magnitude === 0) return '$0';
  if (magnitude >= 1000) return `$${integerFormat.format(value)}`;
  if (magnitude >= 1) return `$${value.toFixed(2)}`;
  if (magnitude >= 0.01) return `$${value.toFixed(3)}`;
  return `$${value.toFixed(4)}`;
}

/** "incl. $3.10 estimated" when part of a cost is estimated from model prices, else "". */
export function estimatedPart(estimatedUsd: number): string {
  return estimatedUsd > 0 ? `incl. ${formatUsd(estimatedUsd)} estimated` : '';
}

/** Cost per success: "N/A" rather than a dash, because with no successes it is undefined, not missing. */
export function formatUsdOrNA(value: number | null | undefined): string {
  return isNumber(value) ? formatUsd(value) : 'N/A';
}

/** 850 → "850 ms", 12_300 → "12.3 s", 252_000 → "4 min 12 s". */
export function formatDuration(ms: number | null | undefined): string {
  if (!isNumber(ms)) return NO_VALUE;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const totalSeconds = Math.round(ms / 1000);
  const minutes = Math.floor(totalSeconds / 60);
  const seconds = totalSeconds % 60;
  if (minutes < 60) return seconds ? `${minutes} min ${seconds} s` : `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  return `${hours} h ${minutes % 60} min`;
}

/** Axis ticks in one unit, chosen by the largest tick: "50 s, 100 s" rather than "100 s, 2.5 min". */
export function formatDurationTicks(ticks: readonly number[]): string[] {
  const largest = Math.max(0, ...ticks);
  const [unit, size]: [string, number] =
    largest < 1000
      ? ['ms', 1]
      : largest < 120_000
        ? ['s', 1000]
        : largest < 7_200_000
          ? ['min', 60_000]
          : ['h', 3_600_000];
  return ticks.map((ms) => (ms === 0 ? '0' : `${+(ms / size).toFixed(1)} ${unit}`));
}

/** 2.345 → "2.3" (per-run averages). */
export function formatDecimal(value: number | null | undefined, digits = 1): string {
  return isNumber(value) ? value.toFixed(digits) : NO_VALUE;
}

type ChangeDirection = 'up' | 'down' | 'flat' | 'none';

export interface Change {
  /** Text such as "+12.5 %" or "−3.1 pp", or "no previous data". */
  text: string;
  direction: ChangeDirection;
}

/**
 * The change of a KPI against the previous period. Rates change in
 * percentage points (a relative change of a rate is easy to misread); other
 * figures change relatively.
 */
export function formatChange(
  current: number | null | undefined,
  previous: number | null | undefined,
  kind: 'relative' | 'points',
): Change {
  if (!isNumber(current) || !isNumber(previous)) return { text: 'no previous data', direction: 'none' };
  if (kind === 'points') {
    const points = (current - previous) * 100;
    return { text: `${signed(points, 1)} pp`, direction: directionOf(points) };
  }
  if (previous === 0)
    return current === 0 ? { text: '±0 %', direction: 'flat' } : { text: 'new', direction: 'up' };
  const relative = ((current - previous) / Math.abs(previous)) * 100;
  return { text: `${signed(relative, 1)} %`, direction: directionOf(relative) };
}

function directionOf(delta: number): ChangeDirection {
  if (Math.abs(delta) < 0.05) return 'flat';
  return delta > 0 ? 'up' : 'down';
}

function signed(value: number, digits: number): string {
  if (Math.abs(value) < 0.05) return '±0';
  const text = Math.abs(value).toFixed(digits);
  return value > 0 ? `+${text}` : `−${text}`;
}

/** "updated 12 s ago", "updated 3 min ago". */
export function formatAgo(elapsedMs: number): string {
  const seconds = Math.max(0, Math.floor(elapsedMs / 1000));
  if (seconds < 60) return `updated ${seconds} s ago`;
  return `updated ${Math.floor(seconds / 60)} min ago`;
}

const dateFormats = new Map<string, Intl.DateTimeFormat>();
/** The browser's zone, UTC where Intl cannot tell. */
export const browserZone = new Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';

/**
 * One Intl.DateTimeFormat per locale and options (zone included), built on
 * first use: building one costs far more than formatting with it, and axis
 * labels, legends and summaries format hundreds of dates per chart.
 */
export function dateFormat(locale: string, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = locale + JSON.stringify(options);
  let format = dateFormats.get(key);
  if (!format) {
    format = new Intl.DateTimeFormat(locale, options);
    dateFormats.set(key, format);
  }
  return format;
}

/**
 * A bucket's label in the dashboard's zone: "Nov 3" for days, "Nov 3, 14:00"
 * for hours.
 */
export function formatBucketLabel(startIso: string, granularity: 'hour' | 'day', timeZone: string): string {
  const date = new Date(startIso);
  if (Number.isNaN(date.getTime())) return startIso;
  return dateFormat(
    'en-US',
    granularity === 'day'
      ? { month: 'short', day: 'numeric', timeZone }
      : { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23', timeZone },
  ).format(date);
}

/**
 * The wall-clock time in `timeZone` of unix `seconds`, as a Date whose local
 * fields read that time: what uPlot's `tzDate` returns, from the wall clock
 * the backend computes days with (remembered per instant, where uPlot's
 * builds a formatter on every call for a zone that is neither UTC nor the
 * browser's).
 */
export function zonedDate(seconds: number, timeZone: string): Date {
  const date = new Date(seconds * 1000);
  if (timeZone === 'UTC') return new Date(date.getTime() + date.getTimezoneOffset() * 60_000);
  if (timeZone === browserZone) return date;
  const { year, month, day, hour, minute, second } = wallClock(timeZone, date.getTime());
  return new Date(year, month - 1, day, hour, minute, second, date.getMilliseconds());
}
