import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Histogram, mergeHistogram } from '../../../functions/domain/sketch';
import { packHistogram, unpackHistogram } from '../../../functions/store/packed-histogram';

describe('packed histogram', () => {
  it('packs in bucket order, zero bucket first, and leaves out empty buckets', () => {
    const histogram: Histogram = new Map([
      ['d412', 7],
      ['dz', 1],
      ['d-3', 2],
      ['d9', 0],
    ]);
    expect(packHistogram(histogram)).toBe('z:1,-3:2,412:7');
    expect(packHistogram(new Map())).toBe('');
  });

  it('reads back what it packed, for any histogram (negative counts too, as deltas have)', () => {
    const bucket = fc.oneof(
      fc.constant('dz'),
      fc.integer({ min: -50, max: 900 }).map((index) => `d${index}`),
    );
    fc.assert(
      fc.property(fc.array(fc.tuple(bucket, fc.integer({ min: -5, max: 10_000 }))), (entries) => {
        const histogram = mergeHistogram(new Map(), entries);
        for (const [name, count] of histogram) if (count === 0) histogram.delete(name);
        expect(unpackHistogram(packHistogram(histogram))).toEqual(histogram);
      }),
    );
  });

  it('adds into the histogram it is given, so several packed strings sum', () => {
    const sum = unpackHistogram('z:1,412:7', unpackHistogram('412:2,500:1'));
    expect(sum).toEqual(
      new Map([
        ['d412', 9],
        ['d500', 1],
        ['dz', 1],
      ]),
    );
  });

  it('skips entries that are not a bucket and a count', () => {
    expect(unpackHistogram('412:2,x:3,7:,:4,9:1.5,13:1')).toEqual(
      new Map([
        ['d412', 2],
        ['d13', 1],
      ]),
    );
  });
});
