/**
 * The dashboard's view state and its URL form. Everything a viewer chooses
 * lives in the query string, so a view can be shared and back/forward works.
 */
import {
  canonicalTimeZone,
  daysBetween,
  isCalendarDate,
  lastLocalDays,
  localDate,
} from '../../functions/domain/local-time';
import { DEFAULT_RANGE_DAYS, MAX_RANGE_DAYS } from '../../functions/domain/targets';

export { MAX_RANGE_DAYS };

export const TABS = ['overview', 'efficiency', 'errors'] as const;
export type Tab = (typeof TABS)[number];

export const RANGE_PRESETS = ['24h', '7d', '30d', '90d'] as const;
type RangePreset = (typeof RANGE_PRESETS)[number];
type Range = RangePreset | 'custom';

type StatusFilter = 'all' | 'success' | 'failure';

export interface ViewState {
  tab: Tab;
  range: Range;
  /** YYYY-MM-DD, only for a custom range. */
  from?: string;
  /** YYYY-MM-DD, inclusive, only for a custom range. */
  to?: string;
  /** Selected models; empty means all. */
  models: string[];
  status: StatusFilter;
  /** IANA zone for day boundaries and labels. */
  tz: string;
  /** Refresh every 30 s. */
  live: boolean;
}

const HOUR_MS = 3_600_000;

/** True for a zone name Intl knows, e.g. Europe/Paris or UTC. */
function isValidTimeZone(zone: string): boolean {
  return zone !== '' && canonicalTimeZone(zone) !== undefined;
}

/** True for a real calendar date in YYYY-MM-DD form. */
export function isValidDate(text: string | null | undefined): text is string {
  return typeof text === 'string' && isCalendarDate(text);
}

/** Whole days from `from` to `to`, both included. */
export function daysInclusive(from: string, to: string): number {
  return daysBetween(from, to) + 1;
}

/** Today's date in `timeZone`. */
export function todayIn(timeZone: string, now: Date): string {
  return localDate(timeZone, now.getTime());
}

/** Reads the view from a query string; anything invalid falls back to its default. */
export function parseViewState(search: string, defaultTimeZone: string): ViewState {
  const params = new URLSearchParams(search);
  const tabParam = params.get('tab');
  const tab: Tab = (TABS as readonly string[]).includes(tabParam ?? '') ? (tabParam as Tab) : 'overview';

  const tzParam = params.get('tz');
  const tz = tzParam && isValidTimeZone(tzParam) ? tzParam : defaultTimeZone;

  const statusParam = params.get('status');
  const status: StatusFilter = statusParam === 'success' || statusParam === 'failure' ? statusParam : 'all';

  const models = uniqueModels((params.get('model') ?? '').split(','));

  const rangeParam = params.get('range');
  const from = params.get('from');
  const to = params.get('to');
  let range: Range = (RANGE_PRESETS as readonly string[]).includes(rangeParam ?? '')
    ? (rangeParam as Range)
    : '7d';
  const customIsValid =
    isValidDate(from) && isValidDate(to) && from <= to && daysInclusive(from, to) <= MAX_RANGE_DAYS;
  if ((rangeParam === 'custom' || (rangeParam === null && (from || to))) && customIsValid) range = 'custom';

  const state: ViewState = { tab, range, models, status, tz, live: params.get('live') === '1' };
  if (range === 'custom' && customIsValid) {
    state.from = from;
    state.to = to;
  }
  return state;
}

function uniqueModels(names: readonly string[]): string[] {
  return [...new Set(names.map((name) => name.trim()).filter((name) => name.length > 0))];
}

/** The canonical query string for a view, keys in a fixed order so equal views give equal URLs. */
export function serializeViewState(state: ViewState): string {
  const params = new URLSearchParams();
  params.set('tab', state.tab);
  params.set('range', state.range);
  if (state.range === 'custom' && state.from && state.to) {
    params.set('from', state.from);
    params.set('to', state.to);
  }
  if (state.models.length > 0) params.set('model', state.models.join(','));
  if (state.status !== 'all') params.set('status', state.status);
  params.set('tz', state.tz);
  if (state.live) params.set('live', '1');
  return `?${params.toString()}`;
}

/** `2026-11-03T14:00:00Z`: the whole-hour form the API accepts. */
function isoHour(epochMs: number): string {
  return `${new Date(Math.floor(epochMs / HOUR_MS) * HOUR_MS).toISOString().slice(0, 13)}:00:00Z`;
}

/**
 * The API's from/to for a view at `now`. Day presets end today in the view's
 * zone (today included); 24 h is the last 24 whole hours including the
 * current one, so the newest runs always show.
 */
export function resolveRange(
  state: Pick<ViewState, 'range' | 'from' | 'to' | 'tz'>,
  now: Date,
): {
  from: string;
  to: string;
} {
  if (state.range === 'custom' && state.from && state.to) return { from: state.from, to: state.to };
  if (state.range === '24h') {
    const end = Math.floor(now.getTime() / HOUR_MS) * HOUR_MS + HOUR_MS;
    return { from: isoHour(end - 24 * HOUR_MS), to: isoHour(end) };
  }
  const days = state.range === '30d' ? 30 : state.range === '90d' ? 90 : DEFAULT_RANGE_DAYS;
  return lastLocalDays(state.tz, now.getTime(), days);
}

/** Query parameters shared by every GET of the view. */
export function apiParams(state: ViewState, now: Date): URLSearchParams {
  const { from, to } = resolveRange(state, now);
  const params = new URLSearchParams({ from, to, tz: state.tz });
  if (state.models.length > 0) params.set('model', state.models.join(','));
  if (state.status !== 'all') params.set('status', state.status);
  return params;
}

/**
 * The from/to of one chart bucket, for the drill-down: a day bucket is that
 * calendar day in the view's zone; an hour bucket is that hour, end exclusive.
 */
export function bucketRange(bucketStart: string, granularity: 'hour' | 'day'): { from: string; to: string } {
  if (granularity === 'day') {
    const day = bucketStart.slice(0, 10);
    return { from: day, to: day };
  }
  const start = Date.parse(bucketStart);
  return { from: isoHour(start), to: isoHour(start + HOUR_MS) };
}
