import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addErrorCounts, type ErrorCounts } from '../../../functions/domain/error-counts';

const empty = (): ErrorCounts => ({ byType: new Map(), other: 0n });
const listedPlusOther = (counts: ErrorCounts) =>
  [...counts.byType.values()].reduce((a, b) => a + b, counts.other);

describe('addErrorCounts', () => {
  it('lists every type while under the cap', () => {
    const counts = addErrorCounts(empty(), [
      ['Timeout', 2n],
      ['OOM', 1n],
    ]);
    expect(counts).toEqual({
      byType: new Map([
        ['Timeout', 2n],
        ['OOM', 1n],
      ]),
      other: 0n,
    });
  });

  it('folds the smallest types into other, ties by name, past the cap', () => {
    const counts = addErrorCounts(
      empty(),
      [
        ['a', 1n],
        ['b', 5n],
        ['c', 1n],
        ['d', 3n],
      ],
      2,
    );
    expect(counts).toEqual({
      byType: new Map([
        ['b', 5n],
        ['d', 3n],
      ]),
      other: 2n,
    });
  });

  it('takes a subtraction of a folded type from other', () => {
    const counts = addErrorCounts(
      { byType: new Map([['b', 5n]]), other: 2n },
      [
        ['a', -1n],
        ['b', -1n],
      ],
      1,
    );
    expect(counts).toEqual({ byType: new Map([['b', 4n]]), other: 1n });
  });

  it('keeps listed + other equal to the failures, none negative, for any additions and removals', () => {
    const operation = fc.record({ type: fc.integer({ min: 0, max: 30 }), add: fc.boolean() });
    fc.assert(
      fc.property(
        fc.array(fc.array(operation, { maxLength: 20 }), { maxLength: 30 }),
        fc.integer({ min: 1, max: 8 }),
        (batches, limit) => {
          const truth = new Map<string, bigint>();
          const counts = empty();
          for (const batch of batches) {
            const deltas: [string, bigint][] = [];
            for (const { type, add } of batch) {
              const name = `E${type}`;
              const runs = truth.get(name) ?? 0n;
              if (!add && runs === 0n) continue; // only runs that were counted can be removed
              truth.set(name, runs + (add ? 1n : -1n));
              deltas.push([name, add ? 1n : -1n]);
            }
            addErrorCounts(counts, deltas, limit);
            const failures = [...truth.values()].reduce((a, b) => a + b, 0n);
            expect(listedPlusOther(counts)).toBe(failures);
            expect(counts.byType.size).toBeLessThanOrEqual(limit);
            expect(counts.other >= 0n).toBe(true);
            for (const [name, count] of counts.byType) {
              expect(count > 0n).toBe(true);
              expect(count <= (truth.get(name) ?? 0n)).toBe(true);
            }
          }
        },
      ),
    );
  });
});
