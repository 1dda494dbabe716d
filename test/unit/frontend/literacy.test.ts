import { describe, expect, it } from 'vitest';
import {
  chartSubtitle,
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
  it('warns about runs of unknown cost and low volume', () => {
    const warnings = filterWarnings(
      view(''),
      summary({
        executions: 12,
        cost: { totalUsd: 1, perRunUsd: 0.1, perSuccessUsd: null, runsWithUnknownCost: 3 },
      }),
    );
    expect(warnings).toEqual([
      expect.stringMatching(/^3 runs have no recorded cost/),
      expect.stringMatching(/^Only 12 runs/),
    ]);
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
