/**
 * Local days and labels in an IANA time zone, from the platform's Intl data
 * (no time-zone library: Node ships the full ICU database).
 *
 * Aggregates exist per UTC hour, so a local day is a run of whole UTC hours.
 * An hour belongs to the local date of its last instant. For a zone whose
 * offset is a whole number of hours this is simply the local date of the
 * hour, so days are exact, daylight-saving days of 23 and 25 hours included.
 * For a zone with a fractional offset (Asia/Kolkata +05:30, Asia/Kathmandu
 * +05:45) it makes a day start at the UTC hour that contains local midnight,
 * up to 59 minutes early; see docs/QUERY.md.
 */
import { HOUR_MS } from './time';

export const DAY_MS = 24 * HOUR_MS;

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

/**
 * The zone's name with ICU's spelling (`utc` → `UTC`), or undefined when it
 * is not a time zone. A name ICU maps to a legacy alias (Asia/Kolkata →
 * Asia/Calcutta) is kept as the client wrote it.
 */
export function canonicalTimeZone(timeZone: string): string | undefined {
  try {
    const resolved = formatterFor(timeZone).resolvedOptions().timeZone;
    return resolved.toLowerCase() === timeZone.toLowerCase() ? resolved : timeZone;
  } catch {
    return undefined;
  }
}

interface WallClock {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
}

/**
 * Intl formatting costs ~10 µs a call and a 400-day range asks for a few
 * thousand, mostly the same day boundaries request after request; remembering
 * them keeps a warm function's range arithmetic well under a millisecond.
 */
const wallClocks = new Map<string, WallClock>();
const MAX_REMEMBERED = 200_000;

/** The wall-clock fields in `timeZone` at an instant (remembered, see above). */
export function wallClock(timeZone: string, epochMs: number): WallClock {
  const key = `${timeZone}|${epochMs}`;
  let clock = wallClocks.get(key);
  if (!clock) {
    if (wallClocks.size >= MAX_REMEMBERED) wallClocks.clear();
    clock = computeWallClock(timeZone, epochMs);
    wallClocks.set(key, clock);
  }
  return clock;
}

function computeWallClock(timeZone: string, epochMs: number): WallClock {
  const fields: Record<string, number> = {};
  for (const part of formatterFor(timeZone).formatToParts(epochMs)) {
    if (part.type !== 'literal') fields[part.type] = Number(part.value);
  }
  return {
    year: fields.year ?? 1970,
    month: fields.month ?? 1,
    day: fields.day ?? 1,
    hour: fields.hour ?? 0,
    minute: fields.minute ?? 0,
    second: fields.second ?? 0,
  };
}

const pad = (value: number, width = 2) => String(value).padStart(width, '0');

function dateText({ year, month, day }: Pick<WallClock, 'year' | 'month' | 'day'>): string {
  return `${pad(year, 4)}-${pad(month)}-${pad(day)}`;
}

/** Epoch ms of a UTC wall-clock time; unlike Date.UTC, years 0–99 stay years 0–99. */
function utcEpochMs(year: number, month: number, day: number, hour = 0, minute = 0, second = 0): number {
  const utc = new Date(0);
  utc.setUTCFullYear(year, month - 1, day);
  utc.setUTCHours(hour, minute, second, 0);
  return utc.getTime();
}

/** Offset of the zone from UTC at an instant, in minutes (−240 for New York in summer). */
function offsetMinutes(timeZone: string, epochMs: number): number {
  const clock = wallClock(timeZone, epochMs);
  const asUtc = utcEpochMs(clock.year, clock.month, clock.day, clock.hour, clock.minute, clock.second);
  return Math.round((asUtc - Math.floor(epochMs / 1000) * 1000) / 60_000);
}

/** `Z`, `+09:00`, `-04:00`, `+05:30`. */
export function offsetText(minutes: number): string {
  if (minutes === 0) return 'Z';
  const sign = minutes < 0 ? '-' : '+';
  const magnitude = Math.abs(minutes);
  return `${sign}${pad(Math.floor(magnitude / 60))}:${pad(magnitude % 60)}`;
}

/** An instant as local ISO 8601 with its offset: `2026-11-01T00:00:00-04:00`. */
export function formatLocal(timeZone: string, epochMs: number): string {
  const clock = wallClock(timeZone, epochMs);
  const time = `${pad(clock.hour)}:${pad(clock.minute)}:${pad(clock.second)}`;
  return `${dateText(clock)}T${time}${offsetText(offsetMinutes(timeZone, epochMs))}`;
}

/** The local date (`YYYY-MM-DD`) of an instant. */
export function localDate(timeZone: string, epochMs: number): string {
  return dateText(wallClock(timeZone, epochMs));
}

/** True for a real calendar date written `YYYY-MM-DD` (no 2026-02-30). */
export function isCalendarDate(text: string): boolean {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!match) return false;
  const epochMs = utcEpochMs(Number(match[1]), Number(match[2]), Number(match[3]));
  return new Date(epochMs).toISOString().slice(0, 10) === text;
}

/** Epoch day number (days since 1970-01-01) of a `YYYY-MM-DD` date; NaN when it is not one. */
export function epochDay(date: string): number {
  return Date.parse(`${date}T00:00:00Z`) / DAY_MS;
}

/** The `YYYY-MM-DD` date of an epoch day number, for years 0000–9999 (ISO's six-digit form beyond). */
function dateOfEpochDay(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}

/** `date` plus `days` calendar days. */
export function addDays(date: string, days: number): string {
  return dateOfEpochDay(epochDay(date) + days);
}

/**
 * The last `count` local days in `timeZone` at `epochMs`, today included: the
 * API's default range (7 days) and the dashboard's day presets alike.
 */
export function lastLocalDays(
  timeZone: string,
  epochMs: number,
  count: number,
): { from: string; to: string } {
  const today = localDate(timeZone, epochMs);
  return { from: addDays(today, -(count - 1)), to: today };
}

/** Calendar days from `from` to `to` (negative when `to` is earlier). */
export function daysBetween(from: string, to: string): number {
  return Math.round(epochDay(to) - epochDay(from));
}

/** The local date an aggregate hour (starting at `hourStartMs`) is counted in. */
export function localDateOfHour(timeZone: string, hourStartMs: number): string {
  return localDate(timeZone, hourStartMs + HOUR_MS - 1);
}

/**
 * The local date an aggregate hour is counted in, as an epoch day number.
 * Days compare as numbers: as text, the year after 9999 (`+010000-01-01`)
 * sorts before every four-digit year.
 */
function localEpochDayOfHour(timeZone: string, hourStartMs: number): number {
  const { year, month, day } = wallClock(timeZone, hourStartMs + HOUR_MS - 1);
  return utcEpochMs(year, month, day) / DAY_MS;
}

/**
 * The first guess is off by at most the change of the zone's offset within
 * two days; offsets lie within ±15 hours, so 48 hourly steps always reach the
 * answer, and a date outside what the platform can represent (NaN) stops at once.
 */
const MAX_CORRECTION_HOURS = 48;

/**
 * Start (a whole UTC hour) of the local day `date`: the first hour counted in
 * that date (or, for a date the zone skipped, the first hour after it).
 * Starts from the offset's guess and corrects by whole hours, which takes
 * three or four lookups and never more than 2 × 48; NaN for a date that is
 * not one.
 */
export function localDayStart(timeZone: string, date: string): number {
  const target = epochDay(date);
  const utcMidnight = target * DAY_MS;
  if (!Number.isFinite(utcMidnight)) return Number.NaN;
  let hour = Math.floor((utcMidnight - offsetMinutes(timeZone, utcMidnight) * 60_000) / HOUR_MS) * HOUR_MS;
  for (let step = 0; step < MAX_CORRECTION_HOURS; step++) {
    if (!(localEpochDayOfHour(timeZone, hour - HOUR_MS) >= target)) break;
    hour -= HOUR_MS;
  }
  for (let step = 0; step < MAX_CORRECTION_HOURS; step++) {
    if (!(localEpochDayOfHour(timeZone, hour) < target)) break;
    hour += HOUR_MS;
  }
  return hour;
}

/**
 * Label of the local day starting at `dayStartMs`: its local start with the
 * offset, e.g. `2026-11-02T00:00:00-05:00`. In a fractional-offset zone the
 * day's first hour begins before midnight; the label still says midnight.
 */
export function localDayLabel(timeZone: string, date: string, dayStartMs: number): string {
  const label = formatLocal(timeZone, dayStartMs);
  if (label.startsWith(date)) return label;
  return `${date}T00:00:00${offsetText(offsetMinutes(timeZone, dayStartMs + HOUR_MS))}`;
}
