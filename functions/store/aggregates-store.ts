/**
 * Exactly-once writes of pre-aggregated counters.
 *
 * Mechanism: a per-(aggregate item, shard) sequence-number watermark, checked
 * in the condition of the same UpdateItem that writes the counters.
 *
 * Invariant, per item X and shard S: the contributions of S's records that X
 * has absorbed are exactly those with a sequence number ≤ X's watermark
 * `w:<S>` (a record's contribution to X is what it adds to X's attributes;
 * records that do not touch X, or whose changes to X cancel out, have none).
 *
 * Why every write keeps it:
 * - Lambda hands a shard's records to one invocation at a time, in order
 *   (ParallelizationFactor 1), and every delivery is a contiguous run of the
 *   shard: a batch, its retry, either half of a bisected batch, a replay from a
 *   reported sequence number (which may reach past the old batch's end), an
 *   operator's replay of a range. So a batch holds every contribution to X
 *   between its first and last record.
 * - A write carries the batch's contributions to X and succeeds only if X has
 *   absorbed none of them: X does not exist yet (`attribute_not_exists(v)`),
 *   or X is still the version whose watermark `w` lies below the lowest (see
 *   the version below); it sets `w` to the highest. Counters
 *   and watermark move in one atomic UpdateItem: a crash, a timeout or a lost
 *   response can never leave one without the other.
 * - When the condition fails, ReturnValuesOnConditionCheckFailure ALL_OLD
 *   hands back the watermark without a read. Contributions at or below it are
 *   already in X (retry, bisect, duplicate delivery, our own retried write
 *   whose response was lost) and are dropped; newer ones (a replay reaching
 *   past the old batch) are re-summed and written under the version seen.
 * - Contributions that cancel out across records (+1 then −1) still move the
 *   watermark with a SET-only write. Skipping it would break the invariant:
 *   a later replay starting between the two records would apply the −1 alone.
 * - Shards have separate watermarks, so concurrent shards (and a parent and
 *   its child after a split) never shadow each other's sequence numbers.
 * - The figures are packed in a few strings (read cost, see aggregate-keys.ts),
 *   which ADD cannot reach, so the writer merges them: it SETs old + batch
 *   and a new random version `v`, on condition that `v` is still the version
 *   it merged into. So no other write (another shard's, our own earlier one)
 *   can come between the read and the write, and since the version pins this
 *   shard's watermark too, the contributions above it are known to be new.
 *   Where the old figures come from: the container's own last write
 *   to the item (KnownItemStates; with one active shard, the usual case, that
 *   is always current and a batch costs no read), or else the failed
 *   condition's ALL_OLD image, and the write is sent again. Concurrent shards
 *   writing one item thus cost a failed write each time the other got there
 *   first; counters stay exact either way.
 *
 * Poison records contribute what can be read of them (see aggregate.ts) and
 * are reported; the handler still writes everything else in the batch, so a
 * retry from the poison record is a no-op for the rest and the batch that
 * finally goes to the on-failure destination holds nothing uncounted.
 *
 * What it does not cover: a batch that exhausts its retries because DynamoDB
 * kept failing is discarded by Lambda while items written after it carry
 * higher watermarks, so replaying it from the queue adds only to items that
 * were not touched since. So transient errors are retried with backoff until
 * shortly before the invocation's own deadline (see aggregate.ts): a DynamoDB
 * outage must outlast every Lambda retry of the batch, minutes rather than
 * seconds, before anything is discarded.
 *
 * Cost: one UpdateItem per touched item per batch, the same as a blind ADD,
 * plus ~80 bytes per shard on the item; a replayed item, and the first write
 * to an existing item after a container starts, cost a failed conditional
 * write (charged like a write). The alternatives: a marker item
 * per record in the same TransactWriteItems doubles the write units (and
 * caps a batch at 100 items); a ClientRequestToken alone fails under bisect,
 * since bisected retries form different batches.
 */
import { randomBytes } from 'node:crypto';
import {
  type AttributeValue,
  ConditionalCheckFailedException,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { BoundedMap } from '../domain/bounded-map';
import { RUN_STATUSES, type RunStatus } from '../domain/counters';
import {
  emptyDelta,
  type ItemDelta,
  type PendingItem,
  sequenceRange,
  sumContributions,
} from '../domain/deltas';
import { type Histogram, mergeHistogram } from '../domain/sketch';
import {
  type AggregateKey,
  aggregateKeyOf,
  COUNTERS_ATTRIBUTE,
  encodeDelta,
  HISTOGRAM_ATTRIBUTES,
  keyId,
  MODELS_PK,
  mergeCounters,
  packCounters,
  packedHistogramsOf,
  unpackCounters,
  VERSION_ATTRIBUTE,
  watermarkAttribute,
} from './aggregate-keys';
import { dynamodb } from './clients';
import { packHistogram, unpackHistogram } from './packed-histogram';
import { type RetryOptions, withRetry } from './retry';

/**
 * Longer than the default: giving up fails the batch, and a batch that fails
 * all its Lambda retries is discarded (see "What it does not cover"). The
 * handler adds a deadline and lifts the attempts when it knows its time left.
 */
export const AGGREGATE_WRITE_RETRY: RetryOptions = { attempts: 8, baseDelayMs: 50, maxDelayMs: 2_000 };

/** UpdateItems in flight at once per batch; corrections can touch hundreds of days. */
const WRITE_CONCURRENCY = 16;

export interface ItemWriteResult {
  readonly item: PendingItem;
  /** What was actually applied (counts nothing when everything was already applied). */
  readonly applied: ItemDelta;
  /** UpdateItem requests sent, condition failures included. */
  readonly requests: number;
  /** Write capacity units DynamoDB reported (condition failures are charged too). */
  readonly capacityUnits: number;
  /**
   * Set when DynamoDB refused the write as invalid (a ValidationException:
   * the item would pass 400 KB, an attribute is malformed): the message.
   * Nothing was applied; the same write would fail again, so the caller
   * must not retry it (see aggregate.ts).
   */
  readonly rejected?: string;
}

/**
 * What a writer knows of a stored item: enough to merge into its packed
 * figures and to tell which contributions it has absorbed.
 */
interface ItemState {
  /** The item's `v`. */
  readonly version: string;
  /** This shard's watermark on the item. */
  readonly watermark?: string;
  /** The packed counters and error counts (`c`): name → amount. */
  readonly counters: ReadonlyMap<string, bigint>;
  readonly histograms: Record<RunStatus, Histogram>;
}

/**
 * The state each item was left in by this container's last write to it, so
 * that the next batch's write to the same hour or day item can merge its
 * figures without reading the item first. A stale entry (another shard or
 * container wrote since) only costs one failed condition: the failure hands
 * back the current item. Bounded, least recently used first out: an entry
 * is a few KB (a day's histograms), and a batch touches two per model (its
 * hour and day), so 2,000 keep every live item of a busy table in a few MB.
 */
export class KnownItemStates extends BoundedMap<string, ItemState> {
  constructor(capacity = 2_000) {
    super(capacity);
  }
}

const containerStates = new KnownItemStates();

/**
 * A version is a random token, not a counter: if the item were deleted and
 * written again (an operator rebuilding the aggregates), a counter could come
 * back to a number a container remembers with other figures behind it.
 */
const newVersion = () => randomBytes(9).toString('base64url');

/** DynamoDB's answer to a request it will never accept as sent: retrying cannot help. */
function isValidationError(error: unknown): boolean {
  return (error as Error)?.name === 'ValidationException';
}

function isConditionFailure(error: unknown): error is ConditionalCheckFailedException {
  return (
    error instanceof ConditionalCheckFailedException ||
    (error as Error)?.name === 'ConditionalCheckFailedException'
  );
}

function stateOf(item: Record<string, AttributeValue>, watermark: string): ItemState {
  const packed = packedHistogramsOf(item);
  const version = item[VERSION_ATTRIBUTE]?.S;
  // Every write sets one; an item without is not an aggregate this code wrote.
  if (version === undefined)
    throw new Error(`aggregate item ${item.pk?.S}/${item.sk?.S} has no version ${VERSION_ATTRIBUTE}`);
  return {
    version,
    ...(item[watermark]?.S === undefined ? {} : { watermark: item[watermark]?.S }),
    counters: new Map(
      unpackCounters(item[COUNTERS_ATTRIBUTE]?.S).map(([name, amount]) => [name, BigInt(amount)]),
    ),
    histograms: {
      success: unpackHistogram(packed.success ?? ''),
      failure: unpackHistogram(packed.failure ?? ''),
    },
  };
}

/**
 * The write of `delta`, conditioned on the item being in `known` state:
 * - unknown: the item does not exist, so the delta alone is its figures;
 * - known: exactly that version, so the figures merged here and the
 *   watermark the delta was summed above are still current.
 */
function updateOf(
  tableName: string,
  key: AggregateKey,
  watermark: string,
  delta: ItemDelta,
  range: { max: string },
  known: ItemState | undefined,
  nextVersion: string,
): { command: UpdateItemCommand; merged: Omit<ItemState, 'version' | 'watermark'> } {
  const { additions, histograms: histogramDeltas } = encodeDelta(delta);
  const names: Record<string, string> = { '#wm': watermark, '#v': VERSION_ATTRIBUTE };
  const values: Record<string, AttributeValue> = { ':max': { S: range.max }, ':next': { S: nextVersion } };
  const sets = ['#wm = :max', '#v = :next'];
  let counters = known?.counters ?? new Map<string, bigint>();
  if (additions.size > 0) {
    counters = mergeCounters(counters, additions);
    names['#c'] = COUNTERS_ATTRIBUTE;
    values[':c'] = { S: packCounters(counters) };
    sets.push('#c = :c');
  }
  const histograms = { ...(known?.histograms ?? { success: new Map(), failure: new Map() }) };
  for (const status of RUN_STATUSES) {
    if (histogramDeltas[status].size === 0) continue;
    const merged = mergeHistogram(new Map(histograms[status]), histogramDeltas[status]);
    for (const [bucket, count] of merged) if (count === 0) merged.delete(bucket);
    histograms[status] = merged;
    names[`#${HISTOGRAM_ATTRIBUTES[status]}`] = HISTOGRAM_ATTRIBUTES[status];
    values[`:${HISTOGRAM_ATTRIBUTES[status]}`] = { S: packHistogram(merged) };
    sets.push(`#${HISTOGRAM_ATTRIBUTES[status]} = :${HISTOGRAM_ATTRIBUTES[status]}`);
  }
  let condition = 'attribute_not_exists(#v)';
  if (known !== undefined) {
    condition = '#v = :version';
    values[':version'] = { S: known.version };
  }
  const command = new UpdateItemCommand({
    TableName: tableName,
    Key: { pk: { S: key.pk }, sk: { S: key.sk } },
    UpdateExpression: `SET ${sets.join(', ')}`,
    ConditionExpression: condition,
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: values,
    ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    ReturnConsumedCapacity: 'TOTAL',
  });
  return { command, merged: { counters, histograms } };
}

/**
 * Applies the part of `item`'s contributions that the item has not absorbed
 * yet for `shardId`. Safe to call any number of times with any contiguous run
 * of the shard's records.
 */
export async function applyPendingItem(
  tableName: string,
  shardId: string,
  item: PendingItem,
  retry: RetryOptions = AGGREGATE_WRITE_RETRY,
  states: KnownItemStates = containerStates,
): Promise<ItemWriteResult> {
  const watermark = watermarkAttribute(shardId);
  const key = aggregateKeyOf(item);
  const stateId = `${tableName}\u0000${shardId}\u0000${keyId(key)}`;
  // What we believe of the item: our last write to it, or what a failed condition returned.
  let known = states.get(stateId);
  // Whether `known` came from the item itself (a failed condition), not from memory.
  let seenOnItem = false;
  let requests = 0;
  let capacityUnits = 0;
  for (;;) {
    const range = sequenceRange(item, known?.watermark);
    if (range === null) {
      if (seenOnItem || known === undefined) return { item, applied: emptyDelta(), requests, capacityUnits };
      // Memory alone never skips records: if the item was deleted and is
      // being rebuilt from a replay, it has not absorbed them. Ask the item.
      known = undefined;
      states.delete(stateId);
      continue;
    }
    const delta = sumContributions(item, known?.watermark);
    const version = newVersion();
    const { command, merged } = updateOf(tableName, key, watermark, delta, range, known, version);
    try {
      requests++;
      const output = await withRetry((abortSignal) => dynamodb.send(command, { abortSignal }), retry);
      capacityUnits += output.ConsumedCapacity?.CapacityUnits ?? 0;
      states.set(stateId, { version, watermark: range.max, ...merged });
      return { item, applied: delta, requests, capacityUnits };
    } catch (error) {
      if (!isConditionFailure(error)) {
        states.delete(stateId);
        if (isValidationError(error))
          return { item, applied: emptyDelta(), requests, capacityUnits, rejected: (error as Error).message };
        throw error;
      }
      // A failed condition is charged like a write; its capacity is not reported.
      if (error.Item === undefined) {
        // Only a condition on a known state can fail on a missing item (it
        // was deleted since): start over as for a new item. The condition
        // for an unknown item cannot fail without one; if it does, we cannot
        // tell what was applied: fail the batch.
        if (known === undefined)
          throw new Error(`condition failed on ${key.pk}/${key.sk} but no item was returned`);
        known = undefined;
        seenOnItem = false;
        states.delete(stateId);
        continue;
      }
      known = stateOf(error.Item, watermark);
      seenOnItem = true;
      states.set(stateId, known);
    }
  }
}

/**
 * Applies every pending item of a batch, a bounded number at a time. After a
 * failure no new write starts, and the error is thrown once the writes in
 * flight have settled, so a retry never races this invocation's leftovers.
 */
export async function applyPendingItems(
  tableName: string,
  shardId: string,
  items: readonly PendingItem[],
  retry: RetryOptions = AGGREGATE_WRITE_RETRY,
  states: KnownItemStates = containerStates,
): Promise<ItemWriteResult[]> {
  const results: ItemWriteResult[] = [];
  const failures: unknown[] = [];
  let next = 0;
  async function worker(): Promise<void> {
    while (next < items.length && failures.length === 0) {
      const item = items[next++] as PendingItem;
      try {
        results.push(await applyPendingItem(tableName, shardId, item, retry, states));
      } catch (error) {
        failures.push(error);
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(WRITE_CONCURRENCY, items.length) }, worker));
  if (failures.length > 0) throw failures[0];
  return results;
}

/** Registers a model name so the query side can list series without a scan. Idempotent. */
export async function registerModel(
  tableName: string,
  model: string,
  retry: RetryOptions = AGGREGATE_WRITE_RETRY,
): Promise<void> {
  await withRetry(
    (abortSignal) =>
      dynamodb.send(
        new PutItemCommand({
          TableName: tableName,
          Item: { pk: { S: MODELS_PK }, sk: { S: model } },
        }),
        { abortSignal },
      ),
    retry,
  );
}
