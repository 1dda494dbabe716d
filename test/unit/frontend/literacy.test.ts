import { describe, expect, it } from 'vitest';
import {
  chartSubtitle,
  comparisonText,
  describeFilters,
  emptySuggestion,
  filterWarnings,
} from '../../../frontend/src/literacy';
import { parseViewState } from '../../../frontend/src/state';
import { summary } from './fixtures';

const view = (search: string) => parseViewState(search, 'UTC');

describe('filterWarnings', () => {
  it('returns nothing for an unfiltered view with enough runs', () => {
    expect(filterWarnings(view(''), summary())).toEqual([]);
  });
  it('says that status=success hides the cost of failed runs', () => {
    expect(filterWarnings(view('?status=success'), summary())[0]).toMatch(/cost of failed runs is hidden/);
  });
  it('says that status=failure makes the success rate 0 % by construction', () => {
    expect(filterWarnings(view('?status=failure'), summary())[0]).toMatch(/0 % by construction/);
  });
  it('names the models a filter keeps', () => {
    expect(filterWarnings(view('?model=gpt-4o'), summary())[0]).toMatch(/Filtered to gpt-4o/);
  });
  const cost = (estimatedUsd: number, runsWithEstimatedCost: number, runsWithUnknownCost: number) => ({
    totalUsd: 12.4,
    reportedUsd: 12.4 - estimatedUsd,
    estimatedUsd,
    perRunUsd: 0.1,
    perSuccessUsd: null,
    runsWithEstimatedCost,
    runsWithUnknownCost,
  });
  it('warns about runs of unknown cost and low volume', () => {
    const warnings = filterWarnings(view(''), summary({ executions: 12, cost: cost(0, 0, 3) }));
    expect(warnings).toEqual([
      '3 runs have no cost at all (no price for the model) and count as $0, so costs are understated.',
      expect.stringMatching(/^Only 12 runs/),
    ]);
  });
  it('says how much of the cost is estimated, and how many runs have none', () => {
    const [both] = filterWarnings(view(''), summary({ cost: cost(3.1, 25, 1) }));
    expect(both).toBe(
      '$3.10 of the $12.40 cost is estimated from model list prices for 25 runs that reported no cost; ' +
        '1 run has no cost at all (no price for the model) and counts as $0, so costs are understated.',
    );
    expect(filterWarnings(view(''), summary({ cost: cost(3.1, 1, 0) }))).toEqual([
      '$3.10 of the $12.40 cost is estimated from model list prices for 1 run that reported no cost.',
    ]);
    expect(filterWarnings(view(''), summary({ cost: cost(0, 0, 0) }))).toEqual([]);
  });
});

describe('subtitles', () => {
  it('restate the active filters', () => {
    expect(describeFilters(view('?range=30d&model=a,b&status=failure&tz=Europe/Paris'))).toBe(
      'last 30 days · a, b · failed runs only · Europe/Paris',
    );
    expect(describeFilters(view('?range=custom&from=2026-11-01&to=2026-11-30'))).toBe(
      '2026-11-01 to 2026-11-30 (30 days) · all models · all runs · UTC',
    );
    expect(describeFilters(view('?range=custom&from=2026-11-01&to=2026-11-01'))).toBe(
      '2026-11-01 to 2026-11-01 (1 day) · all models · all runs · UTC',
    );
  });
  it('name the measure and the bucket size', () => {
    expect(chartSubtitle('Failed runs', 'hour', view('?range=24h'))).toBe(
      'Failed runs per hour · last 24 hours · all models · all runs · UTC',
    );
  });
});

describe('emptySuggestion', () => {
  it('suggests clearing filters first, then a longer range', () => {
    expect(emptySuggestion(view('?status=failure'))).toMatch(/clearing the model and status/);
    expect(emptySuggestion(view('?range=7d'))).toMatch(/longer range/);
  });
});

describe('comparisonText', () => {
  const week = { from: '2026-10-30T00:00:00Z', to: '2026-11-06T00:00:00Z', tz: 'UTC' };
  const NOW = Date.parse('2026-11-05T15:30:00Z');

  it('says a running period is compared with the same elapsed span before it', () => {
    const previous = { ...summary().previous, from: '2026-10-23T00:00:00Z', to: '2026-10-29T16:00:00Z' };
    expect(comparisonText({ ...week, previous }, NOW)).toBe(
      'This period has run 6 d 16 h so far: changes compare it with the first 6 d 16 h of the 7 days before (Oct 23, 00:00 – Oct 29, 16:00).',
    );
  });

  it('says a finished period is compared with the whole period before it', () => {
    const previous = { ...summary().previous, from: '2026-10-23T00:00:00Z', to: '2026-10-30T00:00:00Z' };
    expect(comparisonText({ ...week, previous }, Date.parse('2026-11-10T00:00:00Z'))).toBe(
      'Changes compare with the 7 days before (Oct 23, 00:00 – Oct 30, 00:00).',
    );
    const day = { from: '2026-11-04T16:00:00Z', to: '2026-11-05T16:00:00Z', tz: 'UTC' };
    expect(
      comparisonText(
        { ...day, previous: { ...previous, from: '2026-11-03T16:00:00Z', to: '2026-11-04T16:00:00Z' } },
        NOW,
      ),
    ).toBe('Changes compare with the 24 hours before (Nov 3, 16:00 – Nov 4, 16:00).');
  });

  it('falls back to plain words for an API without the span', () => {
    expect(comparisonText({ ...week, previous: summary().previous }, NOW)).toBe(
      'Changes compare with the 7 days before.',
    );
  });
});
