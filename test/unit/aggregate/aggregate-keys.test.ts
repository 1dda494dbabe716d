import { describe, expect, it } from 'vitest';
import { addDelta, emptyDelta, runDeltaOf } from '../../../functions/domain/deltas';
import { MAX_ERROR_TYPES_PER_ITEM } from '../../../functions/domain/error-counts';
import {
  decodeAggregateItem,
  figuresOf,
  integerOf,
  parseWatermark,
  watermarkValue,
} from '../../../functions/store/aggregate-keys';
import { runImage } from './runs';

describe('aggregate items', () => {
  it('decodes number attributes into counters, histograms, minutes and error counts, exact past 2^53', () => {
    const decoded = decodeAggregateItem({
      pk: { S: 'A#H#m' },
      sk: { S: '2026-11-01T10' },
      v: { S: 'token' },
      sn: { N: '5' },
      sc: { N: '9007199254740993' },
      sms: { N: '1000' },
      fn: { N: '2' },
      shz: { N: '1' },
      sh412: { N: '4' },
      fh300: { N: '2' },
      sq07: { N: '5' },
      fq59: { N: '0' },
      'e:Timeout': { N: '1' },
      'e:Gone': { N: '0' },
      eo: { N: '1' },
      et: { SS: ['aaaaaaaa', 'bbbbbbbb'] },
    });
    expect(decoded.byStatus.success.counters).toMatchObject({
      executions: 5,
      successes: 5,
      costNanos: 9_007_199_254_740_993n,
      durationMsSum: 1000,
    });
    expect(decoded.byStatus.failure.counters).toMatchObject({ executions: 2, failures: 2 });
    expect(decoded.byStatus.success.histogram).toEqual(
      new Map([
        ['dz', 1],
        ['d412', 4],
      ]),
    );
    expect(decoded.byStatus.failure.histogram).toEqual(new Map([['d300', 2]]));
    expect(decoded.perMinute.success).toEqual(new Map([[7, 5]]));
    expect(decoded.perMinute.failure).toEqual(new Map());
    expect(decoded.errors).toEqual(new Map([['Timeout', 1]]));
    expect(decoded.otherErrors).toBe(1);
  });

  it('takes each status’s extent as the widest over every shard’s watermark and the rebuild’s', () => {
    const decoded = decodeAggregateItem({
      'w:shardId-1': {
        S: watermarkValue('1'.padStart(40, '0'), 1_764_000_000, { success: { minMs: 500, maxMs: 900 } }),
      },
      'w:shardId-2': {
        S: watermarkValue('7'.padStart(40, '0'), 1_764_000_000, {
          success: { minMs: 300, maxMs: 800 },
          failure: { minMs: 10, maxMs: 20 },
        }),
      },
      'w:shardId-3': { S: '3'.padStart(40, '0') },
      // Written before watermarks carried a time: its extents count the same.
      'w:shardId-4': { S: `${'4'.padStart(40, '0')};100,350,,` },
      rx: { S: '400,1200,,' },
    });
    expect(decoded.byStatus.success.extent).toEqual({ minMs: 100, maxMs: 1200 });
    expect(decoded.byStatus.failure.extent).toEqual({ minMs: 10, maxMs: 20 });
  });

  it('takes the extents folded into rx when no watermark is left', () => {
    const decoded = decodeAggregateItem({ rx: { S: ',,5,70000' } });
    expect(decoded.byStatus.success.extent).toBeUndefined();
    expect(decoded.byStatus.failure.extent).toEqual({ minMs: 5, maxMs: 70_000 });
  });

  it('reads a stored integer in plain or scientific form exactly', () => {
    expect(integerOf('9007199254740993')).toBe(9_007_199_254_740_993n);
    expect(integerOf('-42')).toBe(-42n);
    expect(integerOf('2E+15')).toBe(2_000_000_000_000_000n);
    expect(integerOf('1.25E+3')).toBe(1_250n);
  });

  it('keeps a watermark’s sequence first, so that it compares as the sequence does', () => {
    const low = watermarkValue('9'.padStart(40, '0'), 1_764_000_999, {
      failure: { minMs: 99_999, maxMs: 99_999 },
    });
    const high = watermarkValue('10'.padStart(40, '0'), 1_000, {});
    expect(low).toBe(`${'9'.padStart(40, '0')}@1764000999;,,99999,99999`);
    expect(high).toBe(`${'10'.padStart(40, '0')}@1000`);
    expect(low < high).toBe(true);
    // Read as a whole sequence (by a writer from before times were kept), it still sorts right.
    expect('9'.padStart(40, '0') < low && low < '10'.padStart(40, '0')).toBe(true);
    expect(parseWatermark(low)).toEqual({
      sequence: '9'.padStart(40, '0'),
      writtenAt: 1_764_000_999,
      extents: { failure: { minMs: 99_999, maxMs: 99_999 } },
    });
    expect(parseWatermark(high)).toEqual({ sequence: '10'.padStart(40, '0'), writtenAt: 1_000, extents: {} });
    expect(parseWatermark(undefined)).toEqual({ extents: {} });
  });

  it('reads a watermark without a time (or with a malformed one) as valid and without writtenAt', () => {
    const sequence = '5'.padStart(40, '0');
    expect(parseWatermark(`${sequence};1,2,,`)).toEqual({
      sequence,
      extents: { success: { minMs: 1, maxMs: 2 } },
    });
    expect(parseWatermark(sequence)).toEqual({ sequence, extents: {} });
    expect(parseWatermark(`${sequence}@soon;1,2,,`)).toEqual({
      sequence,
      extents: { success: { minMs: 1, maxMs: 2 } },
    });
  });

  it('lays out a recomputation with the error types capped and an exact other', () => {
    const delta = emptyDelta();
    const types = MAX_ERROR_TYPES_PER_ITEM + 7;
    for (let index = 0; index < types; index++)
      addDelta(
        delta,
        runDeltaOf({
          run: runImage({ executionId: `r${index}`, status: 'failure', errorType: `E${index}` }),
          sign: 1,
        }),
      );
    const { numbers, listed } = figuresOf(delta);
    expect([...numbers.keys()].filter((name) => name.startsWith('e:'))).toHaveLength(
      MAX_ERROR_TYPES_PER_ITEM,
    );
    expect(listed).toHaveLength(MAX_ERROR_TYPES_PER_ITEM);
    expect(numbers.get('eo')).toBe(7n);
    expect(numbers.get('fn')).toBe(BigInt(types));
  });
});
