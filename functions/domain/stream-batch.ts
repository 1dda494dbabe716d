/**
 * The most stream records one invocation of the aggregate function receives:
 * the event source mapping's BatchSize (lib/constructs/aggregation.ts), the
 * local stream poller's default and the benches' (one definition, so local
 * figures are taken with the batches AWS would send).
 *
 * A batch costs one UpdateItem per aggregate item it touches, whatever the
 * number of runs in it, so write requests per run fall as batches grow
 * (ADR 0001, "Requests per run and batching"). Lambda allows up to 10,000,
 * and cuts a batch at the 6 MB invocation payload before that. 1,000 keeps
 * an invocation's work to seconds, and the writer splits any one item's share
 * that would pass DynamoDB's expression limits over several writes
 * (store/aggregates-store.ts), so no input makes a batch unwritable.
 * At low traffic batches hold what arrives within the batching window, which
 * stays the freshness budget: BatchSize only matters once traffic fills it.
 */
export const STREAM_BATCH_SIZE = 1_000;

/** The stream mapping's batching window unless a deployment chooses another (lib/config.ts). */
export const DEFAULT_BATCHING_WINDOW_SECONDS = 1;

/**
 * The least quiet time (`npm run rebuild -- --settle-seconds`) after which an
 * aggregate item can be rebuilt while the stream runs: a record can reach
 * the writer a whole batching window after its change, plus an invocation
 * and a few retries, for which 59 s is kept. With the default window this is
 * 60 s, the rebuild's default; the stack outputs it for its own window
 * (`RebuildMinSettleSeconds`).
 */
export function minimumSettleSeconds(batchingWindowSeconds: number): number {
  return batchingWindowSeconds + 59;
}
