import { describe, expect, it } from 'vitest';
import {
  formatAgo,
  formatChange,
  formatCount,
  formatDuration,
  formatDurationTicks,
  formatPercent,
  formatUsd,
  formatUsdOrNA,
  NO_VALUE,
  truncateText,
} from '../../../frontend/src/format';

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
