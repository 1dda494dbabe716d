import { describe, expect, it } from 'vitest';
import { decodeAggregateItem, packCounters, unpackCounters } from '../../../functions/store/aggregate-keys';

describe('packed aggregate items', () => {
  it('packs counters as sorted decimal strings, zeros left out, exact past 2^53', () => {
    const packed = packCounters(
      new Map([
        ['sn', 3n],
        ['e:Timeout, "quoted"', 1n],
        ['sc', 9_007_199_254_740_993n],
        ['fi', 0n],
      ]),
    );
    expect(packed).toBe('{"e:Timeout, \\"quoted\\"":"1","sc":"9007199254740993","sn":"3"}');
    expect(unpackCounters(packed)).toEqual([
      ['e:Timeout, "quoted"', '1'],
      ['sc', '9007199254740993'],
      ['sn', '3'],
    ]);
  });

  it('reads nothing from a missing, empty or malformed packed string', () => {
    expect(unpackCounters(undefined)).toEqual([]);
    expect(unpackCounters('')).toEqual([]);
    expect(unpackCounters('{not json')).toEqual([]);
    expect(unpackCounters('[1,2]')).toEqual([]);
    expect(unpackCounters('{"sn":3,"si":"1.5","so":"7"}')).toEqual([['so', '7']]);
  });

  it('decodes a packed item into counters, histograms and error counts', () => {
    const decoded = decodeAggregateItem({
      pk: { S: 'A#D#m' },
      sk: { S: '2026-11-01' },
      v: { S: 'token' },
      'w:shardId-1': { S: '0001' },
      c: { S: '{"e:Timeout":"2","fn":"2","sc":"9007199254740993","sn":"5","sms":"1000"}' },
      hs: { S: 'z:1,412:4' },
      hf: { S: '300:2' },
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
    expect(decoded.errors).toEqual(new Map([['Timeout', 2]]));
  });
});
