import { describe, expect, it } from 'vitest';
import {
  dateFormat,
  formatAgo,
  formatBucketLabel,
  formatChange,
  formatCount,
  formatDuration,
  formatDurationTicks,
  formatPercent,
  formatUsd,
  formatUsdOrNA,
  NO_VALUE,
  zonedDate,
} from '../../../frontend/src/format';
import { formatDateTime, runCostText, truncateText } from '../../../frontend/src/format-runs';

describe('formatPercent', () => {
  it('returns 0 % for an all-failure range, never NaN', () => {
    expect(formatPercent(0)).toBe('0 %');
  });
  it('returns one decimal for fractional rates', () => {
    expect(formatPercent(0.8734)).toBe('87.3 %');
    expect(formatPercent(1)).toBe('100 %');
  });
  it('returns a dash for missing and non-finite values', () => {
    expect(formatPercent(null)).toBe(NO_VALUE);
    expect(formatPercent(Number.NaN)).toBe(NO_VALUE);
  });
});

describe('formatUsd', () => {
  it('scales precision with magnitude', () => {
    expect(formatUsd(1234.5)).toBe('$1,235');
    expect(formatUsd(12.345)).toBe('$12.35');
    expect(formatUsd(0.0312)).toBe('$0.031');
    expect(formatUsd(0.00123)).toBe('$0.0012');
    expect(formatUsd(0)).toBe('$0');
  });
  it('returns N/A for cost per success without successes', () => {
    expect(formatUsdOrNA(null)).toBe('N/A');
    expect(formatUsdOrNA(0.5)).toBe('$0.500');
  });
});

describe('formatDuration', () => {
  it('picks the unit that reads best', () => {
    expect(formatDuration(850)).toBe('850 ms');
    expect(formatDuration(12_300)).toBe('12.3 s');
    expect(formatDuration(252_000)).toBe('4 min 12 s');
    expect(formatDuration(3_720_000)).toBe('1 h 2 min');
    expect(formatDuration(null)).toBe(NO_VALUE);
  });
  it('formats axis ticks in a single unit', () => {
    expect(formatDurationTicks([0, 50_000, 100_000])).toEqual(['0', '50 s', '100 s']);
    expect(formatDurationTicks([60_000, 150_000])).toEqual(['1 min', '2.5 min']);
  });
});

describe('formatChange', () => {
  it('returns percentage points for rates', () => {
    expect(formatChange(0.9, 0.85, 'points')).toEqual({ text: '+5.0 pp', direction: 'up' });
    expect(formatChange(0.8, 0.85, 'points')).toEqual({ text: '−5.0 pp', direction: 'down' });
  });
  it('returns a relative change for other figures', () => {
    expect(formatChange(110, 100, 'relative')).toEqual({ text: '+10.0 %', direction: 'up' });
    expect(formatChange(100, 100, 'relative')).toEqual({ text: '±0 %', direction: 'flat' });
  });
  it('says when there is nothing to compare with', () => {
    expect(formatChange(5, null, 'relative').direction).toBe('none');
    expect(formatChange(5, 0, 'relative').text).toBe('new');
    expect(formatChange(0, 0, 'relative').direction).toBe('flat');
  });
});

describe('truncateText', () => {
  it('cuts at 100 characters with an ellipsis', () => {
    const cut = truncateText('x'.repeat(150));
    expect(cut.truncated).toBe(true);
    expect(cut.text).toBe(`${'x'.repeat(100)}…`);
  });
  it('keeps short text whole and never splits a surrogate pair', () => {
    expect(truncateText('short')).toEqual({ text: 'short', truncated: false });
    expect(truncateText('😀'.repeat(101)).text).toBe(`${'😀'.repeat(100)}…`);
  });
});

describe('formatCount and formatAgo', () => {
  it('groups thousands and tells elapsed time', () => {
    expect(formatCount(12345)).toBe('12,345');
    expect(formatAgo(12_400)).toBe('updated 12 s ago');
    expect(formatAgo(185_000)).toBe('updated 3 min ago');
  });
});

describe('dateFormat', () => {
  it('returns one formatter per locale, zone and options', () => {
    const paris = dateFormat('en-US', { month: 'short', timeZone: 'Europe/Paris' });
    expect(dateFormat('en-US', { month: 'short', timeZone: 'Europe/Paris' })).toBe(paris);
    expect(dateFormat('en-US', { month: 'short', timeZone: 'Asia/Tokyo' })).not.toBe(paris);
    expect(dateFormat('en-US', { month: 'long', timeZone: 'Europe/Paris' })).not.toBe(paris);
  });
});

describe('formatBucketLabel and formatDateTime', () => {
  it('label a bucket and a run in the dashboard zone', () => {
    expect(formatBucketLabel('2026-11-03T00:00:00Z', 'day', 'UTC')).toBe('Nov 3');
    expect(formatBucketLabel('2026-11-03T13:00:00Z', 'hour', 'Europe/Paris')).toBe('Nov 3, 14:00');
    expect(formatBucketLabel('2026-11-03T13:00:00Z', 'hour', 'Asia/Tokyo')).toBe('Nov 3, 22:00');
    expect(formatDateTime('2026-11-03T13:05:09Z', 'America/New_York')).toBe('2026-11-03 08:05:09');
    expect(formatBucketLabel('not a date', 'day', 'UTC')).toBe('not a date');
  });
});

describe('zonedDate', () => {
  /** The wall clock of a Date's local fields, which is what uPlot reads from a tzDate. */
  const wallClock = (date: Date) =>
    [date.getFullYear(), date.getMonth() + 1, date.getDate(), date.getHours(), date.getMinutes()].join(' ');

  it('reads the wall clock of the zone, across daylight-saving changes', () => {
    // 2026-03-29 is the spring change in Paris (01:00 UTC), 2026-11-01 the autumn one in New York (06:00 UTC).
    expect(wallClock(zonedDate(Date.parse('2026-03-29T00:30:00Z') / 1000, 'Europe/Paris'))).toBe(
      '2026 3 29 1 30',
    );
    expect(wallClock(zonedDate(Date.parse('2026-03-29T01:30:00Z') / 1000, 'Europe/Paris'))).toBe(
      '2026 3 29 3 30',
    );
    expect(wallClock(zonedDate(Date.parse('2026-11-01T05:30:00Z') / 1000, 'America/New_York'))).toBe(
      '2026 11 1 1 30',
    );
    expect(wallClock(zonedDate(Date.parse('2026-11-01T06:30:00Z') / 1000, 'America/New_York'))).toBe(
      '2026 11 1 1 30',
    );
    expect(wallClock(zonedDate(Date.parse('2026-11-03T23:00:00Z') / 1000, 'UTC'))).toBe('2026 11 3 23 0');
  });
});

describe('runCostText', () => {
  it('shows the reported cost, else the estimate marked as such, else unknown', () => {
    expect(runCostText({ costUsd: 0.25, estimatedCostUsd: 9 })).toBe('$0.250');
    expect(runCostText({ costUsd: null, estimatedCostUsd: 0.4125 })).toBe('$0.412 est.');
    expect(runCostText({ costUsd: null })).toBe('unknown');
  });
});
