import { describe, expect, it } from 'vitest';
import {
  bucketIndexOf,
  bucketsBefore,
  bucketsOf,
  checkGranularity,
  comparedPreviousRange,
  defaultGranularity,
  previousRange,
  querySchemas,
  type ResolvedRange,
  resolveRange,
  signedPlanOf,
} from '../../../functions/domain/query-range';

const NOW = Date.parse('2026-11-05T15:30:00Z');

function range(parameters: Record<string, string>): ResolvedRange {
  const resolved = resolveRange(querySchemas.summary.parse(parameters), NOW);
  if (Array.isArray(resolved)) throw new Error(JSON.stringify(resolved));
  return resolved;
}

function problems(parameters: Record<string, string>) {
  return resolveRange(querySchemas.summary.parse(parameters), NOW);
}

describe('resolveRange', () => {
  it('defaults to the last 7 local days, today included', () => {
    // 15:30 UTC is already 00:30 on the 6th in Tokyo.
    expect(range({ tz: 'Asia/Tokyo' })).toMatchObject({
      from: '2026-10-31T00:00:00+09:00',
      to: '2026-11-07T00:00:00+09:00',
      days: { first: '2026-10-31', last: '2026-11-06' },
    });
    expect(range({})).toMatchObject({ from: '2026-10-30T00:00:00Z', to: '2026-11-06T00:00:00Z' });
  });

  it('takes whole-hour ISO bounds with an exclusive end', () => {
    expect(range({ from: '2026-11-01T10:00:00Z', to: '2026-11-01T12:00:00-04:00' })).toMatchObject({
      startMs: Date.parse('2026-11-01T10:00:00Z'),
      endMs: Date.parse('2026-11-01T16:00:00Z'),
    });
  });

  it('names the parameter of every bad value', () => {
    expect(problems({ from: '2026-02-30' })).toEqual([
      { path: 'from', message: 'from 2026-02-30 is not a real date' },
    ]);
    expect(problems({ from: '2026-11-01T10:00:00+05:30' })).toEqual([
      expect.objectContaining({ path: 'from', message: expect.stringContaining('whole UTC hour') }),
    ]);
    expect(problems({ from: '2026-11-03', to: '2026-11-01' })).toEqual([
      expect.objectContaining({ path: 'from', message: expect.stringContaining('before to') }),
    ]);
    expect(problems({ from: '2025-01-01', to: '2026-02-05' })).toEqual([
      expect.objectContaining({ path: 'to', message: expect.stringContaining('400 days') }),
    ]);
    expect(problems({ from: '2025-01-01', to: '2026-02-04' })).not.toBeInstanceOf(Array);
  });

  it('takes the equal number of local days before from as the previous period', () => {
    const week = range({ from: '2026-11-01', to: '2026-11-07', tz: 'America/New_York' });
    expect(previousRange(week)).toMatchObject({
      from: '2026-10-25T00:00:00-04:00',
      to: '2026-11-01T00:00:00-04:00',
    });
    const hours = range({ from: '2026-11-01T10:00:00Z', to: '2026-11-01T16:00:00Z' });
    expect(previousRange(hours)).toMatchObject({ from: '2026-11-01T04:00:00Z', to: '2026-11-01T10:00:00Z' });
  });
});

describe('comparedPreviousRange', () => {
  it('cuts the week before to the elapsed part of a week that ends today', () => {
    // NOW is 15:30 UTC on Nov 5: 6 days and 16 hours of Oct 30..Nov 5 have begun, the current hour included.
    const week = range({ from: '2026-10-30', to: '2026-11-05' });
    expect(comparedPreviousRange(week, NOW)).toMatchObject({
      from: '2026-10-23T00:00:00Z',
      to: '2026-10-29T16:00:00Z',
    });
    expect(comparedPreviousRange(week, NOW).days).toBeUndefined();
  });

  it('measures the elapsed span in hours across a DST change', () => {
    // New York, Nov 1 has 25 hours: the elapsed span is counted in hours, not local days.
    const week = range({ from: '2026-11-01', to: '2026-11-07', tz: 'America/New_York' });
    const before = comparedPreviousRange(week, NOW);
    expect(before.from).toBe('2026-10-25T00:00:00-04:00');
    const elapsed = Math.floor(NOW / 3_600_000) * 3_600_000 + 3_600_000 - week.startMs;
    expect(before.endMs - before.startMs).toBe(elapsed);
  });

  it('compares whole periods for a range wholly past or wholly ahead', () => {
    const past = range({ from: '2026-10-01', to: '2026-10-07' });
    expect(comparedPreviousRange(past, NOW)).toEqual(previousRange(past));
    const ahead = range({ from: '2026-12-01', to: '2026-12-07' });
    expect(comparedPreviousRange(ahead, NOW)).toEqual(previousRange(ahead));
    // The 24 h preset ends with the current hour: nothing of it lies ahead.
    const day = range({ from: '2026-11-04T16:00:00Z', to: '2026-11-05T16:00:00Z' });
    expect(comparedPreviousRange(day, NOW)).toEqual(previousRange(day));
  });
});

describe('granularity', () => {
  it('defaults to hour up to 2 days, DST day included, else day', () => {
    expect(defaultGranularity(range({ from: '2026-10-31', to: '2026-11-01', tz: 'America/New_York' }))).toBe(
      'hour',
    );
    expect(defaultGranularity(range({ from: '2026-10-31', to: '2026-11-02' }))).toBe('day');
  });

  it('refuses hour buckets beyond 31 days', () => {
    expect(checkGranularity(range({ from: '2026-01-01', to: '2026-03-01' }), 'hour')).toMatchObject({
      path: 'granularity',
    });
    expect(checkGranularity(range({ from: '2026-01-01', to: '2026-03-01' }), 'day')).toBeUndefined();
  });

  it('gives the 14 buckets before the range as the baseline', () => {
    const week = range({ from: '2026-11-01', to: '2026-11-07', tz: 'America/New_York' });
    const baseline = bucketsBefore(week, 'day', 14);
    expect(baseline).toHaveLength(14);
    expect(baseline[0]?.label).toBe('2026-10-18T00:00:00-04:00');
    expect(baseline[13]?.endMs).toBe(week.startMs);
    expect(bucketsBefore(week, 'hour', 14)).toHaveLength(14);
  });

  it('finds the bucket of an instant', () => {
    const buckets = bucketsOf(range({ from: '2026-11-01', to: '2026-11-03' }), 'day');
    expect(bucketIndexOf(buckets, Date.parse('2026-11-02T23:59:59Z'))).toBe(1);
    expect(bucketIndexOf(buckets, Date.parse('2026-11-04T00:00:00Z'))).toBe(-1);
  });
});

describe('signedPlanOf', () => {
  const hours = (day: string, first: number, last: number) =>
    Array.from(
      { length: last - first + 1 },
      (_, index) => `${day}T${String(first + index).padStart(2, '0')}`,
    );

  it('reads whole UTC days as day items and each edge as its hours or its day minus the rest', () => {
    const week = range({ from: '2026-11-01', to: '2026-11-07', tz: 'America/New_York' });
    const plan = signedPlanOf([week]);
    // 04:00Z on 1 November to 05:00Z on 8 November: day(11-01) − 00..03 + days 02..07 + 8 November 00..04.
    expect(plan.dayKeys).toEqual([
      '2026-11-01',
      '2026-11-02',
      '2026-11-03',
      '2026-11-04',
      '2026-11-05',
      '2026-11-06',
      '2026-11-07',
    ]);
    expect(plan.hourKeys).toEqual([...hours('2026-11-01', 0, 3), ...hours('2026-11-08', 0, 4)]);
    expect(plan.perSpan[0]?.filter(({ sign }) => sign === -1).map(({ key }) => key)).toEqual(
      hours('2026-11-01', 0, 3),
    );
  });

  it('reads Tokyo days (15:00Z–15:00Z) as nine hours, a day, and nine hours taken away', () => {
    const days = range({ from: '2026-11-01', to: '2026-11-02', tz: 'Asia/Tokyo' });
    const plan = signedPlanOf(bucketsOf(days, 'day'));
    expect(plan.dayKeys).toEqual(['2026-11-01', '2026-11-02']);
    expect(plan.hourKeys).toEqual([
      ...hours('2026-10-31', 15, 23),
      ...hours('2026-11-01', 15, 23),
      ...hours('2026-11-02', 15, 23),
    ]);
    expect(plan.perSpan.map((terms) => terms.length)).toEqual([19, 19]);
  });
});

describe('query schemas', () => {
  it('reject unknown parameters and bad values, naming each', () => {
    const result = querySchemas.errors.safeParse({ limit: '0', stauts: 'failure', tz: 'Nowhere/City' });
    expect(result.success).toBe(false);
    const paths = result.error?.issues.flatMap((issue) =>
      issue.code === 'unrecognized_keys' ? issue.keys : [issue.path.join('.')],
    );
    expect(paths?.sort()).toEqual(['limit', 'stauts', 'tz']);
  });

  it('split, trim and de-duplicate the model list', () => {
    expect(querySchemas.models.parse({ model: 'a, b,,a' }).model).toEqual(['a', 'b']);
  });

  it('default limits and formats', () => {
    expect(querySchemas.runs.parse({})).toMatchObject({ limit: 50, format: 'json' });
    expect(querySchemas.errors.parse({})).toMatchObject({ limit: 10 });
  });
});
