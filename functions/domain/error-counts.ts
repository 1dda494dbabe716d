/**
 * Failed runs per error type in one aggregate item, bounded: at most
 * MAX_ERROR_TYPES_PER_ITEM types are listed, the rest are counted in `other`.
 * Error types are user-controlled (an id in the text makes every failure a
 * new type), so without a cap an item grows past DynamoDB's 400 KB limit.
 *
 * Invariant: the listed counts plus `other` equal the item's failures, for
 * any sequence of additions and subtractions. Each run sits either in its
 * type's entry or in `other`; a subtraction takes from the type's entry
 * while it has runs and from `other` after that (the rest of that type's
 * runs went there), so no count goes negative. A listed count is a lower
 * bound of its type's runs when the type was folded into `other` earlier.
 *
 * The stream writer does not merge: it lists a type when it first comes
 * while there is room (functions/store/aggregates-store.ts). This ranking is
 * what a rebuild lists from full counts.
 */

/**
 * Matches the largest `limit` GET /api/errors accepts, so a single hour or
 * day lists every type the API can name. With labels of at most 100 code
 * points (≤ 600 bytes once JSON-escaped) this keeps an item's error counts
 * under ~32 KB.
 */
export const MAX_ERROR_TYPES_PER_ITEM = 50;

export interface ErrorCounts {
  /** Error type → failed runs; never more than the cap, no zero entries. */
  readonly byType: Map<string, bigint>;
  /** Failed runs whose type is not listed. */
  other: bigint;
}

const byCountThenName = ([nameA, a]: [string, bigint], [nameB, b]: [string, bigint]) =>
  a === b ? (nameA < nameB ? -1 : nameA > nameB ? 1 : 0) : a > b ? -1 : 1;

/**
 * Adds signed per-type deltas into `counts` (changed in place) and folds the
 * smallest types into `other` until at most `limit` are listed (ties broken
 * by name, so every writer folds the same ones).
 */
export function addErrorCounts(
  counts: ErrorCounts,
  deltas: Iterable<readonly [string, bigint]>,
  limit = MAX_ERROR_TYPES_PER_ITEM,
): ErrorCounts {
  for (const [errorType, amount] of deltas) {
    const listed = counts.byType.get(errorType) ?? 0n;
    if (amount >= 0n) {
      counts.byType.set(errorType, listed + amount);
      continue;
    }
    const fromListed = -amount < listed ? -amount : listed;
    counts.byType.set(errorType, listed - fromListed);
    counts.other += amount + fromListed;
  }
  for (const [errorType, count] of counts.byType) if (count === 0n) counts.byType.delete(errorType);
  if (counts.byType.size > limit) {
    const ranked = [...counts.byType].sort(byCountThenName);
    for (const [errorType, count] of ranked.slice(limit)) {
      counts.byType.delete(errorType);
      counts.other += count;
    }
  }
  return counts;
}
