/**
 * Query parameters shared by every GET endpoint, and the UTC hour range they
 * select. (Foundation version: whole UTC days and whole UTC hours; local-day
 * time zones come with the query issue.)
 */
import { z } from 'zod';
import type { FieldError } from './execution';
import { HOUR_MS, utcDayKey, utcHourKey } from './time';

const DAY_MS = 24 * HOUR_MS;
export const MAX_RANGE_DAYS = 400;

const dateOrHour = z.string().regex(/^\d{4}-\d{2}-\d{2}(T\d{2}(:00(:00(\.0+)?)?)?(Z|[+-]\d{2}:\d{2}))?$/, {
  error: 'must be YYYY-MM-DD or an ISO date-time on a whole hour',
});

export const commonQuerySchema = z.object({
  from: dateOrHour.optional(),
  to: dateOrHour.optional(),
  tz: z.literal('UTC', { error: 'only UTC is supported for now' }).default('UTC'),
  model: z
    .string()
    .optional()
    .transform((value) =>
      value
        ? value
            .split(',')
            .map((model) => model.trim())
            .filter(Boolean)
        : [],
    ),
  status: z.enum(['success', 'failure'], { error: 'status must be success or failure' }).optional(),
});

export type CommonQuery = z.output<typeof commonQuerySchema>;

export interface ResolvedRange {
  /** Inclusive start, epoch ms, on a whole UTC hour. */
  readonly startMs: number;
  /** Exclusive end, epoch ms, on a whole UTC hour. */
  readonly endMs: number;
  readonly from: string;
  readonly to: string;
}

function parseBound(text: string, field: 'from' | 'to'): number | FieldError {
  const isDay = /^\d{4}-\d{2}-\d{2}$/.test(text);
  const ms = Date.parse(isDay ? `${text}T00:00:00Z` : text);
  if (Number.isNaN(ms) || (isDay && utcDayKey(ms) !== text))
    return { path: field, message: `${field} ${text} is not a real date` };
  if (!isDay && ms % HOUR_MS !== 0)
    return { path: field, message: `${field} ${text} is not on a whole hour` };
  // `to` as a day is inclusive: the range ends at the end of that day.
  return isDay && field === 'to' ? ms + DAY_MS : ms;
}

/** The selected range, defaulting to the last 7 days with today included. */
export function resolveRange(query: CommonQuery, nowMs: number): ResolvedRange | FieldError[] {
  const todayStart = Date.parse(`${utcDayKey(nowMs)}T00:00:00Z`);
  const start = query.from ? parseBound(query.from, 'from') : todayStart - 6 * DAY_MS;
  const end = query.to ? parseBound(query.to, 'to') : todayStart + DAY_MS;
  const errors = [start, end].filter((bound): bound is FieldError => typeof bound !== 'number');
  if (errors.length > 0) return errors;
  const startMs = start as number;
  const endMs = end as number;
  if (startMs >= endMs) return [{ path: 'from', message: `from must be before to` }];
  if (endMs - startMs > MAX_RANGE_DAYS * DAY_MS) {
    return [{ path: 'to', message: `the range may cover at most ${MAX_RANGE_DAYS} days` }];
  }
  return {
    startMs,
    endMs,
    from: new Date(startMs).toISOString().replace('.000Z', 'Z'),
    to: new Date(endMs).toISOString().replace('.000Z', 'Z'),
  };
}

/** First and last (inclusive) hour keys of a range. */
export function hourBucketsOf(range: ResolvedRange): { firstBucket: string; lastBucket: string } {
  return { firstBucket: utcHourKey(range.startMs), lastBucket: utcHourKey(range.endMs - 1) };
}
