/**
 * How long a stream record can still reach the aggregate function, and so how
 * long a shard's watermark must be kept on an aggregate item (ADR 0001,
 * "Watermarks grow with the shards that wrote an item").
 *
 * One definition, read by the event source mapping (lib/constructs/
 * aggregation.ts, `maxRecordAge`) and by the writer that prunes watermarks
 * (store/aggregates-store.ts): if they could drift apart, a longer record age
 * would let a record at or below a removed watermark be applied twice.
 */

/**
 * The mapping's MaximumRecordAgeInSeconds: Lambda discards records older than
 * this (to the on-failure queue) instead of invoking the function with them.
 * Below the stream's 24 h retention, so a stuck record reaches the queue while
 * it can still be read.
 */
export const MAX_RECORD_AGE_SECONDS = 12 * 60 * 60;

/**
 * Added to the record age before a watermark may go. It covers what lets a
 * record arrive a little past MAX_RECORD_AGE_SECONDS: an invocation that
 * started just before the record turned too old (the function's timeout is
 * 60 s), clock skew between the writer that stamped the watermark, the one
 * that prunes it and the stream's creation times (seconds under NTP), and
 * the creation time's rounding to the second. An hour is far above all of
 * them and costs only an hour's more watermarks on busy items.
 */
const PRUNE_MARGIN_SECONDS = 60 * 60;

/**
 * A watermark last written longer ago than this may be removed: every record
 * of its shard at or below it was created before it was written, so it is now
 * older than the mapping lets through, and none can be applied again.
 */
export const WATERMARK_HORIZON_SECONDS = MAX_RECORD_AGE_SECONDS + PRUNE_MARGIN_SECONDS;

/**
 * Whether a watermark written at `writtenAtSeconds` (epoch seconds) may be
 * removed at `nowSeconds`. A watermark without a time (written before
 * watermarks carried one) never is: its age is unknown, and its shard may
 * still redeliver records at or below it.
 */
export function isPastHorizon(writtenAtSeconds: number | undefined, nowSeconds: number): boolean {
  return writtenAtSeconds !== undefined && nowSeconds - writtenAtSeconds > WATERMARK_HORIZON_SECONDS;
}
