import { describe, expect, it } from 'vitest';
import {
  canonicalTimeZone,
  formatLocal,
  isCalendarDate,
  localDateOfHour,
  localDayStart,
  offsetText,
} from '../../../functions/domain/local-time';
import { dayBuckets } from '../../../functions/domain/query-range';

const HOUR = 3_600_000;

/** Day buckets of [from, to] (inclusive local dates) as `label hours` strings. */
function days(tz: string, from: string, to: string): string[] {
  const end = localDayStart(
    tz,
    new Date(Date.parse(`${to}T00:00:00Z`) + 24 * HOUR).toISOString().slice(0, 10),
  );
  return dayBuckets(tz, localDayStart(tz, from), end).map(
    (bucket) => `${bucket.label} ${(bucket.endMs - bucket.startMs) / HOUR}h`,
  );
}

describe('local days', () => {
  it('are UTC days in UTC', () => {
    expect(days('UTC', '2026-03-07', '2026-03-09')).toEqual([
      '2026-03-07T00:00:00Z 24h',
      '2026-03-08T00:00:00Z 24h',
      '2026-03-09T00:00:00Z 24h',
    ]);
  });

  it('have 23 hours on the New York spring-forward day, and the label changes offset', () => {
    expect(days('America/New_York', '2026-03-07', '2026-03-09')).toEqual([
      '2026-03-07T00:00:00-05:00 24h',
      '2026-03-08T00:00:00-05:00 23h',
      '2026-03-09T00:00:00-04:00 24h',
    ]);
  });

  it('have 25 hours on the New York fall-back day', () => {
    expect(days('America/New_York', '2026-10-31', '2026-11-02')).toEqual([
      '2026-10-31T00:00:00-04:00 24h',
      '2026-11-01T00:00:00-04:00 25h',
      '2026-11-02T00:00:00-05:00 24h',
    ]);
    expect(localDayStart('America/New_York', '2026-11-02')).toBe(Date.parse('2026-11-02T05:00:00Z'));
  });

  it('start at 15:00 UTC the day before in Tokyo', () => {
    expect(days('Asia/Tokyo', '2026-11-01', '2026-11-02')).toEqual([
      '2026-11-01T00:00:00+09:00 24h',
      '2026-11-02T00:00:00+09:00 24h',
    ]);
    expect(localDayStart('Asia/Tokyo', '2026-11-01')).toBe(Date.parse('2026-10-31T15:00:00Z'));
  });

  it('follow British Summer Time in London, both changes', () => {
    expect(days('Europe/London', '2026-03-28', '2026-03-30')).toEqual([
      '2026-03-28T00:00:00Z 24h',
      '2026-03-29T00:00:00Z 23h',
      '2026-03-30T00:00:00+01:00 24h',
    ]);
    expect(days('Europe/London', '2026-10-24', '2026-10-26')).toEqual([
      '2026-10-24T00:00:00+01:00 24h',
      '2026-10-25T00:00:00+01:00 25h',
      '2026-10-26T00:00:00Z 24h',
    ]);
  });

  it('start at the UTC hour that contains local midnight in a half-hour zone', () => {
    // Kolkata midnight is 18:30 UTC; the day starts with the 18:00 UTC hour.
    expect(localDayStart('Asia/Kolkata', '2026-11-02')).toBe(Date.parse('2026-11-01T18:00:00Z'));
    expect(days('Asia/Kolkata', '2026-11-02', '2026-11-02')).toEqual(['2026-11-02T00:00:00+05:30 24h']);
    expect(localDateOfHour('Asia/Kolkata', Date.parse('2026-11-01T17:00:00Z'))).toBe('2026-11-01');
  });
});

describe('time-zone names and dates', () => {
  it('canonicalises known zones and rejects unknown ones', () => {
    expect(canonicalTimeZone('utc')).toBe('UTC');
    expect(canonicalTimeZone('America/New_York')).toBe('America/New_York');
    expect(canonicalTimeZone('Asia/Kolkata')).toBe('Asia/Kolkata');
    expect(canonicalTimeZone('america/new_york')).toBe('America/New_York');
    expect(canonicalTimeZone('Mars/Olympus_Mons')).toBeUndefined();
    expect(canonicalTimeZone('')).toBeUndefined();
  });

  it('tells real calendar dates from impossible ones', () => {
    expect(isCalendarDate('2028-02-29')).toBe(true);
    expect(isCalendarDate('2026-02-29')).toBe(false);
    expect(isCalendarDate('2026-13-01')).toBe(false);
    expect(isCalendarDate('2026-1-01')).toBe(false);
  });

  it('formats instants with their local offset', () => {
    expect(formatLocal('America/New_York', Date.parse('2026-11-01T05:00:00Z'))).toBe(
      '2026-11-01T01:00:00-04:00',
    );
    expect(formatLocal('America/New_York', Date.parse('2026-11-01T06:00:00Z'))).toBe(
      '2026-11-01T01:00:00-05:00',
    );
    expect(offsetText(330)).toBe('+05:30');
    expect(offsetText(-210)).toBe('-03:30');
    expect(offsetText(0)).toBe('Z');
  });
});
