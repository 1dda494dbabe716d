/**
 * Query parameters of the GET endpoints, the range they select in a time
 * zone, the buckets of that range, and which aggregate items cover them.
 * Pure: `nowMs` comes in as an argument.
 */
import { z } from 'zod';
import type { FieldError } from './execution';
import {
  addDays,
  canonicalTimeZone,
  DAY_MS,
  daysBetween,
  epochDay,
  formatLocal,
  isCalendarDate,
  lastLocalDays,
  localDateOfHour,
  localDayLabel,
  localDayStart,
} from './local-time';
import { DEFAULT_RANGE_DAYS, MAX_RANGE_DAYS } from './targets';
import { HOUR_MS, utcDayKey, utcHourKey } from './time';

/** Hour buckets beyond a month are unreadable on a chart and cost 24× the items; use days. */
const MAX_HOUR_BUCKET_DAYS = 31;
const MAX_MODELS = 50;
/**
 * Dates a bound may name. The last is the day before 9999-12-31, so that the
 * day after every accepted date, and every local date of an accepted instant,
 * is still a four-digit year; the first is the first whole day of the epoch.
 */
const FIRST_DATE = '1970-01-02';
const LAST_DATE = '9999-12-30';

export type Granularity = 'hour' | 'day';

const dateOrHour = (name: 'from' | 'to') =>
  z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}(T\d{2}(:00(:00(\.0+)?)?)?(Z|[+-]\d{2}:\d{2}))?$/, {
      error: `${name} must be YYYY-MM-DD or an ISO date-time on a whole hour, e.g. 2026-11-01T13:00:00Z`,
    })
    .optional();

const integerBetween = (name: string, min: number, max: number, fallback: number) =>
  z
    .string()
    .regex(/^\d{1,6}$/, { error: `${name} must be an integer from ${min} to ${max}` })
    .transform(Number)
    .pipe(
      z
        .number()
        .min(min, { error: `${name} must be an integer from ${min} to ${max}` })
        .max(max, { error: `${name} must be an integer from ${min} to ${max}` }),
    )
    .default(fallback);

/** Parameters every GET endpoint takes. */
const commonParameters = {
  from: dateOrHour('from'),
  to: dateOrHour('to'),
  tz: z
    .string()
    .default('UTC')
    .transform((name, context) => {
      const canonical = canonicalTimeZone(name);
      if (canonical === undefined) {
        context.addIssue({
          code: 'custom',
          message: `tz ${JSON.stringify(name.slice(0, 100))} is not an IANA time zone, e.g. Europe/Paris`,
        });
        return z.NEVER;
      }
      return canonical;
    }),
  model: z
    .string()
    .optional()
    .transform((value) => [
      ...new Set(
        (value ?? '')
          .split(',')
          .map((model) => model.trim().normalize('NFC'))
          .filter(Boolean),
      ),
    ])
    .pipe(
      z
        .array(z.string().max(100, { error: 'model names are at most 100 characters' }))
        .max(MAX_MODELS, { error: `model lists at most ${MAX_MODELS} models` }),
    ),
  status: z.enum(['success', 'failure'], { error: 'status must be success or failure' }).optional(),
};

/**
 * One strict schema per endpoint. Unknown parameters are rejected, as unknown
 * fields of a posted run are: `models=a` or `stauts=failure` would otherwise
 * silently answer for every model or status.
 */
export const querySchemas = {
  summary: z.strictObject(commonParameters),
  models: z.strictObject(commonParameters),
  alarm: z.strictObject(commonParameters),
  health: z.strictObject(commonParameters),
  timeseries: z.strictObject({
    ...commonParameters,
    granularity: z.enum(['hour', 'day'], { error: 'granularity must be hour or day' }).optional(),
  }),
  errors: z.strictObject({ ...commonParameters, limit: integerBetween('limit', 1, 50, 10) }),
  runs: z.strictObject({
    ...commonParameters,
    errorType: z
      .string()
      .min(1, { error: 'errorType must be 1–100 characters' })
      .max(100, { error: 'errorType must be 1–100 characters' })
      .transform((text) => text.normalize('NFC'))
      .optional(),
    limit: integerBetween('limit', 1, 200, 50),
    cursor: z.string().max(1000, { error: 'cursor is not one this API returned' }).optional(),
    format: z.enum(['json', 'csv'], { error: 'format must be json or csv' }).default('json'),
  }),
} as const;

export type CommonQuery = z.output<z.ZodObject<typeof commonParameters>>;

export interface ResolvedRange {
  readonly tz: string;
  /** Inclusive start, epoch ms, on a whole UTC hour. */
  readonly startMs: number;
  /** Exclusive end, epoch ms, on a whole UTC hour. */
  readonly endMs: number;
  /** Start and end as local date-times with their offsets. */
  readonly from: string;
  readonly to: string;
  /** First and last (inclusive) local dates, when both bounds were given as whole days. */
  readonly days?: { readonly first: string; readonly last: string };
}

type Bound = { ms: number; date?: string } | FieldError;

function outsideDates(text: string, field: 'from' | 'to'): FieldError | undefined {
  const day = epochDay(text.slice(0, 10));
  if (day >= epochDay(FIRST_DATE) && day <= epochDay(LAST_DATE)) return undefined;
  return {
    path: field,
    message: `${field} ${text} is outside the dates this API takes, ${FIRST_DATE} to ${LAST_DATE}`,
  };
}

function parseBound(text: string, field: 'from' | 'to', tz: string): Bound {
  if (/^\d{4}-\d{2}-\d{2}$/.test(text)) {
    if (!isCalendarDate(text)) return { path: field, message: `${field} ${text} is not a real date` };
    const outside = outsideDates(text, field);
    if (outside) return outside;
    // `to` as a day is inclusive: the range ends where the next local day starts.
    return { ms: localDayStart(tz, field === 'to' ? addDays(text, 1) : text), date: text };
  }
  const ms = Date.parse(text);
  if (Number.isNaN(ms) || !isCalendarDate(text.slice(0, 10)))
    return { path: field, message: `${field} ${text} is not a real date-time` };
  const outside = outsideDates(text, field);
  if (outside) return outside;
  if (ms % HOUR_MS !== 0)
    return { path: field, message: `${field} ${text} is not on a whole UTC hour (aggregates are hourly)` };
  return { ms };
}

const isFieldError = (bound: Bound): bound is FieldError => 'path' in bound;

function rangeOf(tz: string, startMs: number, endMs: number, days?: ResolvedRange['days']): ResolvedRange {
  const range = { tz, startMs, endMs, from: formatLocal(tz, startMs), to: formatLocal(tz, endMs) };
  return days ? { ...range, days } : range;
}

/** The selected range; the default is the last 7 local days, today included. */
export function resolveRange(query: CommonQuery, nowMs: number): ResolvedRange | FieldError[] {
  const { tz } = query;
  const preset = lastLocalDays(tz, nowMs, DEFAULT_RANGE_DAYS);
  const fromText = query.from ?? preset.from;
  const toText = query.to ?? preset.to;
  const start = parseBound(fromText, 'from', tz);
  const end = parseBound(toText, 'to', tz);
  if (isFieldError(start) || isFieldError(end)) return [start, end].filter(isFieldError);
  if (start.ms < DAY_MS) return [{ path: 'from', message: 'from must be after 1970-01-02' }];
  if (start.ms >= end.ms) return [{ path: 'from', message: `from ${fromText} must be before to ${toText}` }];
  // A local day may last 25 hours, so 400 local days may be an hour or two longer than 400 × 24 h.
  const tooLong =
    start.date && end.date
      ? daysBetween(start.date, end.date) + 1 > MAX_RANGE_DAYS
      : end.ms - start.ms > MAX_RANGE_DAYS * DAY_MS;
  if (tooLong)
    return [{ path: 'to', message: `the range from..to may cover at most ${MAX_RANGE_DAYS} days` }];
  const days = start.date && end.date ? { first: start.date, last: end.date } : undefined;
  return rangeOf(tz, start.ms, end.ms, days);
}

/**
 * The period of equal length just before the range: as many local days when
 * the range is whole days (a week that contains a 25-hour day is compared
 * with the week before, not with 168 hours), else as many hours.
 */
export function previousRange(range: ResolvedRange): ResolvedRange {
  if (range.days) {
    const count = daysBetween(range.days.first, range.days.last) + 1;
    const first = addDays(range.days.first, -count);
    const last = addDays(range.days.first, -1);
    return rangeOf(range.tz, localDayStart(range.tz, first), range.startMs, { first, last });
  }
  return rangeOf(range.tz, range.startMs - (range.endMs - range.startMs), range.startMs);
}

/**
 * The previous period as the summary compares it. A range that reaches past
 * the current hour (a preset ending today) has runs only in its elapsed part,
 * so the previous period is cut to the same elapsed span from its own start,
 * to the hour: 6 days 7 hours of this week against the first 6 days 7 hours
 * of the week before, not 7 full days. The current hour counts as elapsed on
 * both sides. A range wholly past, or wholly ahead, compares whole periods.
 */
export function comparedPreviousRange(range: ResolvedRange, nowMs: number): ResolvedRange {
  const previous = previousRange(range);
  const elapsedEnd = Math.floor(nowMs / HOUR_MS) * HOUR_MS + HOUR_MS;
  if (elapsedEnd >= range.endMs || elapsedEnd <= range.startMs) return previous;
  return rangeOf(
    range.tz,
    previous.startMs,
    Math.min(previous.endMs, previous.startMs + (elapsedEnd - range.startMs)),
  );
}

/** `hour` for ranges up to 2 days (49 hours with a DST change), else `day`. */
export function defaultGranularity(range: ResolvedRange): Granularity {
  return range.endMs - range.startMs <= 2 * DAY_MS + HOUR_MS ? 'hour' : 'day';
}

export function checkGranularity(range: ResolvedRange, granularity: Granularity): FieldError | undefined {
  if (granularity === 'hour' && range.endMs - range.startMs > MAX_HOUR_BUCKET_DAYS * DAY_MS + HOUR_MS)
    return {
      path: 'granularity',
      message: `granularity=hour is limited to ranges of ${MAX_HOUR_BUCKET_DAYS} days; use granularity=day`,
    };
  return undefined;
}

/** One bucket of a chart: [startMs, endMs) and its local label. */
export interface TimeBucket {
  readonly startMs: number;
  readonly endMs: number;
  readonly label: string;
}

/** The UTC hours of [startMs, endMs), labelled in local time. */
function hourBuckets(tz: string, startMs: number, endMs: number): TimeBucket[] {
  const buckets: TimeBucket[] = [];
  for (let hour = startMs; hour < endMs; hour += HOUR_MS)
    buckets.push({ startMs: hour, endMs: hour + HOUR_MS, label: formatLocal(tz, hour) });
  return buckets;
}

/**
 * The local days that meet [startMs, endMs), clipped to it. Every day starts
 * at least an hour after the one before, and there are no more days than
 * hours plus one, so the loop ends even for a zone whose data were odd.
 */
export function dayBuckets(tz: string, startMs: number, endMs: number): TimeBucket[] {
  const buckets: TimeBucket[] = [];
  let date = localDateOfHour(tz, startMs);
  let dayStart = localDayStart(tz, date);
  const maxDays = Math.ceil((endMs - startMs) / HOUR_MS) + 1;
  while (dayStart < endMs && buckets.length < maxDays) {
    const next = addDays(date, 1);
    const nextStart = Math.max(localDayStart(tz, next), dayStart + HOUR_MS);
    buckets.push({
      startMs: Math.max(dayStart, startMs),
      endMs: Math.min(nextStart, endMs),
      label: localDayLabel(tz, date, dayStart),
    });
    date = next;
    dayStart = nextStart;
  }
  return buckets;
}

/** The buckets of a range at a granularity. */
export function bucketsOf(range: ResolvedRange, granularity: Granularity): TimeBucket[] {
  return granularity === 'hour'
    ? hourBuckets(range.tz, range.startMs, range.endMs)
    : dayBuckets(range.tz, range.startMs, range.endMs);
}

/** The `count` whole buckets just before the range, oldest first: the first bucket's baseline. */
export function bucketsBefore(range: ResolvedRange, granularity: Granularity, count: number): TimeBucket[] {
  if (granularity === 'hour') return hourBuckets(range.tz, range.startMs - count * HOUR_MS, range.startMs);
  const firstDate = localDateOfHour(range.tz, range.startMs);
  const firstDayStart = localDayStart(range.tz, firstDate);
  const baselineStart = localDayStart(range.tz, addDays(firstDate, -count));
  return dayBuckets(range.tz, baselineStart, firstDayStart);
}

/** One aggregate item of a signed read plan: `+1` adds it, `-1` takes it away. */
export interface SignedKey {
  /** Bucket key: `2026-11-01T13` (hour item) or `2026-11-01` (day item). */
  readonly key: string;
  readonly sign: 1 | -1;
}

function hourTerms(fromMs: number, toMs: number, sign: 1 | -1): SignedKey[] {
  const terms: SignedKey[] = [];
  for (let hour = fromMs; hour < toMs; hour += HOUR_MS) terms.push({ key: utcHourKey(hour), sign });
  return terms;
}

/**
 * The items whose signed sum is exactly [startMs, endMs) (whole UTC hours),
 * in as few items as this shape allows. Counters and histogram counts are
 * integers, so a day item minus some of its hours is exact. Each edge that
 * cuts a UTC day is either its hours (plus) or the day item minus the hours
 * outside the span, whichever reads fewer items (ties: plain hours):
 *
 * - a New York day (UTC 04–04) is day(D) − hours(D, 00–03) + hours(D+1, 00–03),
 *   9 terms instead of 24, and neighbouring days share their hours;
 * - a Tokyo day (UTC 15–15) is hours(D−1, 15–23) + day(D) − hours(D, 15–23).
 */
export function signedKeysOf(startMs: number, endMs: number): SignedKey[] {
  if (startMs >= endMs) return [];
  const startDay = Math.floor(startMs / DAY_MS) * DAY_MS;
  const lastDay = Math.floor((endMs - 1) / DAY_MS) * DAY_MS;
  if (startDay === lastDay) {
    // Within one UTC day: its hours, or the day minus the hours around them.
    const hours = (endMs - startMs) / HOUR_MS;
    if (hours <= 1 + 24 - hours) return hourTerms(startMs, endMs, 1);
    return [
      { key: utcDayKey(startDay), sign: 1 },
      ...hourTerms(startDay, startMs, -1),
      ...hourTerms(endMs, startDay + DAY_MS, -1),
    ];
  }
  const terms: SignedKey[] = [];
  let wholeFrom = startDay;
  if (startMs > startDay) {
    wholeFrom = startDay + DAY_MS;
    const plainHours = (wholeFrom - startMs) / HOUR_MS;
    const hoursBefore = (startMs - startDay) / HOUR_MS;
    if (plainHours <= 1 + hoursBefore) terms.push(...hourTerms(startMs, wholeFrom, 1));
    else terms.push({ key: utcDayKey(startDay), sign: 1 }, ...hourTerms(startDay, startMs, -1));
  }
  const endDay = Math.floor(endMs / DAY_MS) * DAY_MS;
  for (let day = wholeFrom; day < endDay; day += DAY_MS) terms.push({ key: utcDayKey(day), sign: 1 });
  if (endMs > endDay) {
    const plainHours = (endMs - endDay) / HOUR_MS;
    const hoursAfter = (endDay + DAY_MS - endMs) / HOUR_MS;
    if (plainHours <= 1 + hoursAfter) terms.push(...hourTerms(endDay, endMs, 1));
    else terms.push({ key: utcDayKey(endDay), sign: 1 }, ...hourTerms(endMs, endDay + DAY_MS, -1));
  }
  return terms;
}

/** The signed items of each span, and every distinct item key they need, sorted. */
export interface SignedPlan {
  readonly perSpan: readonly (readonly SignedKey[])[];
  readonly hourKeys: readonly string[];
  readonly dayKeys: readonly string[];
}

export function signedPlanOf(spans: readonly { startMs: number; endMs: number }[]): SignedPlan {
  const perSpan = spans.map(({ startMs, endMs }) => signedKeysOf(startMs, endMs));
  const keys = new Set(perSpan.flatMap((terms) => terms.map(({ key }) => key)));
  const sorted = [...keys].sort();
  return {
    perSpan,
    hourKeys: sorted.filter((key) => key.length === 13),
    dayKeys: sorted.filter((key) => key.length === 10),
  };
}

/** Start (epoch ms) of an aggregate bucket key, hour (`2026-11-01T13`) or day (`2026-11-01`). */
export function bucketKeyStartMs(key: string): number {
  return Date.parse(key.length === 10 ? `${key}T00:00:00Z` : `${key}:00:00Z`);
}

/**
 * Index of the bucket that contains `epochMs`, or −1. `buckets` are sorted
 * and contiguous, so a binary search does.
 */
export function bucketIndexOf(buckets: readonly TimeBucket[], epochMs: number): number {
  let low = 0;
  let high = buckets.length - 1;
  while (low <= high) {
    const middle = (low + high) >> 1;
    const bucket = buckets[middle]!;
    if (epochMs < bucket.startMs) high = middle - 1;
    else if (epochMs >= bucket.endMs) low = middle + 1;
    else return middle;
  }
  return -1;
}

/** Zod issues of a query string as `{path, message}`, naming the parameter. */
export function queryIssues(issues: readonly z.core.$ZodIssue[], allowed: readonly string[]): FieldError[] {
  return issues.flatMap((issue): FieldError[] => {
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({
        path: key,
        message: `unknown parameter "${key.slice(0, 100)}"; this endpoint takes ${allowed.join(', ') || 'none'}`,
      }));
    }
    // The parameter's name, not an index into the split model list.
    return [{ path: String(issue.path[0] ?? ''), message: issue.message }];
  });
}
