/**
 * The stored form of a duration histogram (domain/sketch.ts): one string
 * attribute per status of an aggregate item (`hs` / `hf`, see aggregate-keys.ts).
 */
import { BUCKET_PREFIX, type Histogram, ZERO_BUCKET } from '../domain/sketch';

/**
 * A histogram in one string attribute: `<index>:<count>` entries in bucket
 * order, comma-separated, `z` for the zero bucket (`z:1,-3:2,412:7`).
 *
 * Why packed: DynamoDB Local spends ~10 µs per stored attribute on every read,
 * and a busy day item held one attribute per bucket and status (up to ~800),
 * so reading 30 days of 4 models took hundreds of milliseconds. Packed (with
 * the counters, see aggregate-keys.ts), an item has ~7 attributes. The price
 * is on the write side: a string cannot be ADDed to, so the writer merges it
 * (see aggregates-store.ts).
 */
export function packHistogram(histogram: Histogram): string {
  const entries: [number, string][] = [];
  for (const [attribute, count] of histogram) {
    if (count === 0) continue;
    const index = attribute === ZERO_BUCKET ? Number.NEGATIVE_INFINITY : Number(attribute.slice(1));
    entries.push([index, `${attribute === ZERO_BUCKET ? 'z' : attribute.slice(1)}:${count}`]);
  }
  return entries
    .sort((a, b) => a[0] - b[0])
    .map(([, entry]) => entry)
    .join(',');
}

/** Whether text[from, to) is a decimal integer, optionally negative. */
function isInteger(text: string, from: number, to: number): boolean {
  const start = text.charCodeAt(from) === 45 /* - */ ? from + 1 : from;
  if (start >= to) return false;
  for (let index = start; index < to; index++) {
    const code = text.charCodeAt(index);
    if (code < 48 || code > 57) return false;
  }
  return true;
}

/**
 * Reads packHistogram's format into `into` (adding to what it holds).
 * Malformed entries are skipped. A dashboard read unpacks ~100 buckets of
 * ~1,000 items, so this scans characters instead of splitting and testing
 * regular expressions.
 */
export function unpackHistogram(packed: string, into: Histogram = new Map()): Histogram {
  let start = 0;
  while (start < packed.length) {
    let end = packed.indexOf(',', start);
    if (end < 0) end = packed.length;
    const colon = packed.indexOf(':', start);
    if (colon > start && colon < end && isInteger(packed, colon + 1, end)) {
      const isZero = colon === start + 1 && packed.charCodeAt(start) === 122; /* z */
      if (isZero || isInteger(packed, start, colon)) {
        const attribute = isZero ? ZERO_BUCKET : `${BUCKET_PREFIX}${packed.slice(start, colon)}`;
        into.set(attribute, (into.get(attribute) ?? 0) + Number(packed.slice(colon + 1, end)));
      }
    }
    start = end + 1;
  }
  return into;
}
