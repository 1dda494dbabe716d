import { describe, expect, it } from 'vitest';
import {
  apiParams,
  bucketRange,
  parseViewState,
  resolveRange,
  serializeViewState,
  type ViewState,
} from '../../../frontend/src/state';

const NOW = new Date('2026-11-05T14:30:00Z');

describe('parseViewState', () => {
  it('returns the defaults for an empty query', () => {
    expect(parseViewState('', 'Europe/Paris')).toEqual({
      tab: 'overview',
      range: '7d',
      models: [],
      status: 'all',
      tz: 'Europe/Paris',
      live: false,
    });
  });

  it('reads every filter', () => {
    const view = parseViewState(
      '?tab=errors&range=custom&from=2026-10-01&to=2026-10-31&model=a,b,a&status=failure&tz=UTC&live=1',
      'Europe/Paris',
    );
    expect(view).toEqual({
      tab: 'errors',
      range: 'custom',
      from: '2026-10-01',
      to: '2026-10-31',
      models: ['a', 'b'],
      status: 'failure',
      tz: 'UTC',
      live: true,
    });
  });

  it('falls back on invalid values instead of failing', () => {
    const view = parseViewState(
      '?tab=nope&range=custom&from=2026-02-30&to=x&status=maybe&tz=Mars/Base',
      'UTC',
    );
    expect(view).toMatchObject({ tab: 'overview', range: '7d', status: 'all', tz: 'UTC' });
    expect(view.from).toBeUndefined();
  });

  it('rejects a custom range that ends before it starts or exceeds 400 days', () => {
    expect(parseViewState('?range=custom&from=2026-10-31&to=2026-10-01', 'UTC').range).toBe('7d');
    expect(parseViewState('?range=custom&from=2024-01-01&to=2026-01-01', 'UTC').range).toBe('7d');
  });
});

describe('serializeViewState', () => {
  it('round-trips through parseViewState', () => {
    const view: ViewState = {
      tab: 'efficiency',
      range: 'custom',
      from: '2026-10-01',
      to: '2026-10-07',
      models: ['claude sonnet', 'gpt-4o'],
      status: 'success',
      tz: 'America/New_York',
      live: true,
    };
    expect(parseViewState(serializeViewState(view), 'UTC')).toEqual(view);
  });

  it('drops custom dates from a preset view', () => {
    const search = serializeViewState({
      tab: 'overview',
      range: '30d',
      from: '2026-01-01',
      to: '2026-01-02',
      models: [],
      status: 'all',
      tz: 'UTC',
      live: false,
    });
    expect(search).toBe('?tab=overview&range=30d&tz=UTC');
  });
});

describe('resolveRange', () => {
  it('ends day presets today in the view zone', () => {
    expect(resolveRange({ range: '7d', tz: 'UTC' }, NOW)).toEqual({ from: '2026-10-30', to: '2026-11-05' });
    // 14:30 UTC is already the next day in Tokyo.
    expect(resolveRange({ range: '7d', tz: 'Asia/Tokyo' }, new Date('2026-11-05T20:00:00Z')).to).toBe(
      '2026-11-06',
    );
    expect(resolveRange({ range: '90d', tz: 'UTC' }, NOW).from).toBe('2026-08-08');
  });

  it('returns 24 whole hours including the current one', () => {
    expect(resolveRange({ range: '24h', tz: 'UTC' }, NOW)).toEqual({
      from: '2026-11-04T15:00:00Z',
      to: '2026-11-05T15:00:00Z',
    });
  });

  it('returns a custom range as chosen', () => {
    expect(resolveRange({ range: 'custom', from: '2026-01-01', to: '2026-01-31', tz: 'UTC' }, NOW)).toEqual({
      from: '2026-01-01',
      to: '2026-01-31',
    });
  });
});

describe('apiParams', () => {
  it('carries the filters the API understands', () => {
    const view = parseViewState('?range=7d&model=a,b&status=failure&tz=UTC', 'UTC');
    expect(apiParams(view, NOW).toString()).toBe(
      'from=2026-10-30&to=2026-11-05&tz=UTC&model=a%2Cb&status=failure',
    );
  });
});

describe('bucketRange', () => {
  it('returns the calendar day of a day bucket in its own zone', () => {
    expect(bucketRange('2026-11-01T00:00:00-04:00', 'day')).toEqual({ from: '2026-11-01', to: '2026-11-01' });
  });
  it('returns one whole hour, end exclusive, for an hour bucket', () => {
    expect(bucketRange('2026-11-01T13:00:00-04:00', 'hour')).toEqual({
      from: '2026-11-01T17:00:00Z',
      to: '2026-11-01T18:00:00Z',
    });
  });
});
