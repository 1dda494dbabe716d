import { describe, expect, it } from 'vitest';
import { correlation, scatterModel } from '../../../frontend/src/scatter';
import { compareWeeks, REQUEST_DAYS, weekModel, weekRange } from '../../../frontend/src/week-over-week';
import { addDays } from '../../../functions/domain/local-time';
import { bucket, emptyBucket } from './fixtures';

describe('scatterModel', () => {
  it('plots per-run figures, one point per bucket with runs, sorted by calls per run', () => {
    const model = scatterModel([
      bucket('2026-11-01T00:00:00Z', { executions: 10, llmCalls: 80, costPerRunUsd: 0.3 }),
      emptyBucket('2026-11-02T00:00:00Z'),
      bucket('2026-11-03T00:00:00Z', { executions: 100, llmCalls: 200, costPerRunUsd: 0.1 }),
      bucket('2026-11-04T00:00:00Z', { executions: 20, llmCalls: 100, costPerRunUsd: 0.2 }),
    ]);
    expect(model.data).toEqual([
      [2, 5, 8],
      [0.1, 0.2, 0.3],
    ]);
    expect(model.buckets.map((b) => b.start.slice(0, 10))).toEqual([
      '2026-11-03',
      '2026-11-04',
      '2026-11-01',
    ]);
    expect(model.n).toBe(3);
    expect(model.r).toBeCloseTo(1);
    expect(model.summary).toBe(
      '3 buckets. Correlation between LLM calls per run and cost per run: 1.00 (strong).',
    );
  });
});

describe('correlation', () => {
  it('returns null without spread', () => {
    expect(correlation([1, 1], [2, 3])).toBeNull();
    expect(correlation([1, 2, 3], [3, 2, 1])).toBeCloseTo(-1);
  });
});

describe('week over week', () => {
  const lastDay = '2026-11-30';
  const days = (count: number, make: (daysAgo: number, start: string) => ReturnType<typeof bucket>) =>
    Array.from({ length: count }, (_, index) => {
      const daysAgo = count - 1 - index;
      return make(daysAgo, `${addDays(lastDay, -daysAgo)}T00:00:00Z`);
    });

  it('asks for the 14 days shown and the 6 their first rolling average needs', () => {
    expect(weekRange(lastDay)).toEqual({ from: '2026-11-11', to: lastDay });
    expect(REQUEST_DAYS).toBe(20);
  });

  it('compares the last 7 days with the same days last week, per run', () => {
    const buckets = days(REQUEST_DAYS, (daysAgo, start) =>
      daysAgo === 0
        ? emptyBucket(start)
        : bucket(start, {
            executions: daysAgo % 2 ? 10 : 30,
            durationMs: { avg: daysAgo < 7 ? 120_000 : 100_000, p50: 1, p95: 1, p99: 1 },
            costPerRunUsd: 0.1,
          }),
    );
    const model = weekModel(buckets, 'UTC');
    expect(model.data[0]).toHaveLength(14);
    expect(model.data[1]?.at(-1)).toBe(120_000);
    expect(model.data[1]?.at(-8)).toBe(100_000);
    // Nov 27's window, Nov 21–27, spans both weeks: 80 runs at 2 min and 50 at 1 min 40 s, pooled by
    // run (a mean of the seven days would read 111,429 ms; one of the last seven alone 120,000).
    expect(model.data[1]?.at(-4)).toBeCloseTo((80 * 120_000 + 50 * 100_000) / 130, 6);
    expect(model.sentences).toEqual([
      'Runs took 2 min on average in the 7 days to Nov 30, 20 % slower than last week (1 min 40 s).',
      'A run cost $0.100, about the same as last week ($0.100).',
    ]);
  });

  it('weighs each day by its runs', () => {
    const buckets = days(7, (daysAgo, start) =>
      bucket(start, {
        executions: daysAgo === 0 ? 30 : 0,
        durationMs: { avg: daysAgo === 0 ? 60_000 : null, p50: 1, p95: 1, p99: 1 },
        costPerRunUsd: daysAgo === 0 ? 0.5 : null,
      }),
    );
    const model = weekModel(buckets, 'UTC');
    expect(model.data[1]?.at(-1)).toBe(60_000);
    expect(model.sentences[0]).toBe(
      'Runs took 1 min on average in the 7 days to Nov 30, with no runs the week before to compare.',
    );
  });

  it('words the change plainly', () => {
    expect(compareWeeks(80, 100, ['slower', 'faster'])).toBe('20 % faster than last week');
    expect(compareWeeks(100.2, 100, ['slower', 'faster'])).toBe('about the same as last week');
    expect(compareWeeks(1, null, ['slower', 'faster'])).toBeNull();
  });
});
