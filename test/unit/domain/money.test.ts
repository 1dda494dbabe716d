import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { nanosToDecimalString, nanosToUsd, usdToNanos } from '../../../functions/domain/money';

describe('usdToNanos', () => {
  it.each<[number, bigint]>([
    [0, 0n],
    [0.1, 100_000_000n],
    [0.012345, 12_345_000n],
    [1, 1_000_000_000n],
    [1_000_000, 1_000_000_000_000_000n],
    [1e-9, 1n],
    [1e-7, 100n],
    [2.5e-10, 0n],
    [5e-10, 1n],
    [0.1 + 0.2, 300_000_000n], // 0.30000000000000004: rounded at the ninth decimal
    [123.456789012, 123_456_789_012n],
  ])('converts %s dollars to %s nanodollars', (usd, nanos) => {
    expect(usdToNanos(usd)).toBe(nanos);
  });

  it.each([Number.NaN, Number.POSITIVE_INFINITY, -0.01])('refuses %s', (usd) => {
    expect(() => usdToNanos(usd)).toThrow(RangeError);
  });

  it('returns the integer nanodollars of any cost written with at most nine decimals', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 1_000_000_000_000_000n }), (nanos) => {
        expect(usdToNanos(Number(nanosToDecimalString(nanos)))).toBe(nanos);
      }),
    );
  });
});

describe('nanosToDecimalString', () => {
  it.each<[bigint, string]>([
    [0n, '0'],
    [1n, '0.000000001'],
    [1_500_000n, '0.0015'],
    [12_345_678_901_000_000n, '12345678.901'],
    [-5n, '-0.000000005'],
  ])('renders %s nanodollars as %s', (nanos, text) => {
    expect(nanosToDecimalString(nanos)).toBe(text);
  });
});

describe('summing costs', () => {
  it('sums a million six-decimal costs exactly, where floating point drifts', { timeout: 60_000 }, () => {
    // Prepare: a million costs from $0.000001 to $9.999999, each a six-decimal literal.
    const costs = Array.from({ length: 1_000_000 }, (_, i) => ((i * 7_919 + 13) % 10_000_000) / 1e6);
    const exactMicros = costs.reduce((sum, _, i) => sum + BigInt((i * 7_919 + 13) % 10_000_000), 0n);

    // Act
    const nanos = costs.reduce((sum, usd) => sum + usdToNanos(usd), 0n);
    const floatSum = costs.reduce((sum, usd) => sum + usd, 0);

    // Assess
    expect(nanos).toBe(exactMicros * 1_000n);
    expect(nanosToDecimalString(nanos)).toBe(nanosToDecimalString(exactMicros * 1_000n));
    expect(floatSum).not.toBe(Number(nanosToDecimalString(exactMicros * 1_000n)));
  });

  it('prints a sum back as the exact decimal below $1 million', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 999_999_999_999_999n }), (nanos) => {
        expect(usdToNanos(nanosToUsd(nanos))).toBe(nanos);
      }),
    );
  });

  it('prints a sum back within one nanodollar up to $9 million', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 9_000_000_000_000_000n }), (nanos) => {
        const drift = usdToNanos(nanosToUsd(nanos)) - nanos;
        expect(drift >= -1n && drift <= 1n).toBe(true);
      }),
    );
  });
});
