/**
 * The signed read plan (a day item minus and plus edge hours) must give
 * exactly what summing the 24 (23, 25) hour items of each local day gives.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { emptyCounters } from '../../../functions/domain/counters';
import { addDays, localDayStart } from '../../../functions/domain/local-time';
import { dayBuckets, signedKeysOf, signedPlanOf } from '../../../functions/domain/query-range';
import { addTotals, durationFigures, emptyTotals, type Totals } from '../../../functions/domain/rates';
import { HOUR_MS, utcDayKey, utcHourKey } from '../../../functions/domain/time';
import { signedTotalsPerSpan } from '../../../functions/domain/timeseries';

const ZONES = [
  'UTC',
  'America/New_York',
  'Asia/Tokyo',
  'Europe/London',
  'Asia/Kolkata',
  'Pacific/Chatham',
  'Asia/Kathmandu',
];
/** Windows around New York's (and London's) DST changes of 2026 and a quiet month. */
const FIRST_DATES = ['2026-03-05', '2026-03-25', '2026-10-22', '2026-10-27', '2026-06-10'];
const WINDOW_DAYS = 16;

const hourFigures = fc.record({
  executions: fc.nat(50),
  costNanos: fc.bigInt(0n, 10n ** 12n),
  tokens: fc.nat(1_000_000),
  durationMsSum: fc.nat(10_000_000),
  histogram: fc.array(
    fc.tuple(fc.constantFrom('dz', 'd1', 'd200', 'd412', 'd-3'), fc.integer({ min: 1, max: 9 })),
    {
      maxLength: 4,
    },
  ),
});

type HourFigures = typeof hourFigures extends fc.Arbitrary<infer T> ? T : never;
type Keyed = Totals & { bucket: string };

function totalsOf(figures: HourFigures): Totals {
  const counters = emptyCounters();
  counters.executions = figures.executions;
  counters.successes = figures.executions;
  counters.costNanos = figures.costNanos;
  counters.inputTokens = figures.tokens;
  counters.durationMsSum = figures.durationMsSum;
  const histogram = new Map<string, number>();
  for (const [bucket, count] of figures.histogram)
    histogram.set(bucket, (histogram.get(bucket) ?? 0) + count);
  return { counters, histogram };
}

/** What a reader sees: counters, histogram without zero buckets, percentiles. */
function view(totals: Totals) {
  return {
    counters: totals.counters,
    histogram: [...totals.histogram].filter(([, count]) => count !== 0).sort(),
    duration: durationFigures(totals.counters, totals.histogram),
  };
}

describe('signed read plan', () => {
  it('combines to the sum of the hours of every local day, in every zone', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...ZONES),
        fc.constantFrom(...FIRST_DATES),
        fc.integer({ min: 1, max: 10 }),
        fc.integer({ min: 1, max: 6 }),
        fc.array(fc.option(hourFigures, { freq: 3 }), {
          minLength: (WINDOW_DAYS + 2) * 24,
          maxLength: (WINDOW_DAYS + 2) * 24,
        }),
        (tz, windowStart, firstOffset, dayCount, hourData) => {
          // Hour items over the window (a day before it too), day items as their sums.
          const originMs = Date.parse(`${addDays(windowStart, -1)}T00:00:00Z`);
          const items: Keyed[] = [];
          const days = new Map<string, Totals>();
          hourData.forEach((figures, index) => {
            if (!figures) return;
            const startMs = originMs + index * HOUR_MS;
            const totals = totalsOf(figures);
            items.push({ bucket: utcHourKey(startMs), ...totals });
            const day = utcDayKey(startMs);
            addTotals(days.get(day) ?? days.set(day, emptyTotals()).get(day)!, totals);
          });
          for (const [bucket, totals] of days) items.push({ bucket, ...totals });
          const first = addDays(windowStart, firstOffset);
          const startMs = localDayStart(tz, first);
          const endMs = localDayStart(tz, addDays(first, dayCount));
          const spans = [...dayBuckets(tz, startMs, endMs), { startMs, endMs }];
          const plan = signedPlanOf(spans);
          const signed = signedTotalsPerSpan(plan.perSpan, items);
          const hourly = spans.map(({ startMs: from, endMs: to }) => {
            const totals = emptyTotals();
            for (const item of items)
              if (item.bucket.length === 13) {
                const at = Date.parse(`${item.bucket}:00:00Z`);
                if (at >= from && at < to) addTotals(totals, item);
              }
            return totals;
          });
          expect(signed.map(view)).toEqual(hourly.map(view));
          for (const totals of signed) {
            expect(totals.counters.executions).toBeGreaterThanOrEqual(0);
            for (const count of totals.histogram.values()) expect(count).toBeGreaterThanOrEqual(0);
          }
          // Never more items than the hours it replaces.
          for (const [index, terms] of plan.perSpan.entries()) {
            const span = spans[index]!;
            expect(terms.length).toBeLessThanOrEqual(Math.max(1, (span.endMs - span.startMs) / HOUR_MS));
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  it('reads a New York day as its UTC day minus and plus four or five edge hours', () => {
    const start = localDayStart('America/New_York', '2026-11-03');
    const end = localDayStart('America/New_York', '2026-11-04');
    expect(signedKeysOf(start, end)).toEqual([
      { key: '2026-11-03', sign: 1 },
      ...['00', '01', '02', '03', '04'].map((hour) => ({ key: `2026-11-03T${hour}`, sign: -1 })),
      ...['00', '01', '02', '03', '04'].map((hour) => ({ key: `2026-11-04T${hour}`, sign: 1 })),
    ]);
  });
});
