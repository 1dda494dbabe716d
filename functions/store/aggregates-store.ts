/**
 * Exactly-once writes of pre-aggregated counters.
 *
 * Mechanism: a per-(aggregate item, shard) sequence-number watermark, checked
 * in the condition of the same UpdateItem that ADDs the counters.
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
 *   absorbed none of them (`w < lowest`); it sets `w` to the highest. Counters
 *   and watermark move in one atomic UpdateItem: a crash, a timeout or a lost
 *   response can never leave one without the other.
 * - When the condition fails, ReturnValuesOnConditionCheckFailure ALL_OLD
 *   hands back the watermark without a read. Contributions at or below it are
 *   already in X (retry, bisect, duplicate delivery, our own retried write
 *   whose response was lost) and are dropped; newer ones (a replay reaching
 *   past the old batch) are re-summed and written under `w = observed`.
 * - Contributions that cancel out across records (+1 then −1) still move the
 *   watermark with a SET-only write. Skipping it would break the invariant:
 *   a later replay starting between the two records would apply the −1 alone.
 * - Shards have separate watermarks, so concurrent shards (and a parent and
 *   its child after a split) never shadow each other's sequence numbers; ADD
 *   is atomic, so their writes commute.
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
 * plus ~80 bytes per shard on the item; a replayed item costs a failed
 * conditional write (charged like a write). The alternatives: a marker item
 * per record in the same TransactWriteItems doubles the write units (and
 * caps a batch at 100 items); a ClientRequestToken alone fails under bisect,
 * since bisected retries form different batches.
 */
import {
  type AttributeValue,
  ConditionalCheckFailedException,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { type AttributeDeltas, type PendingItem, sequenceRange, sumContributions } from '../domain/deltas';
import { MODELS_PK, watermarkAttribute } from './aggregate-keys';
import { dynamodb } from './clients';
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
  /** The deltas actually applied (empty when everything was already applied). */
  readonly applied: AttributeDeltas;
  /** UpdateItem requests sent, condition failures included. */
  readonly requests: number;
  /** Write capacity units DynamoDB reported (condition failures are charged too). */
  readonly capacityUnits: number;
}

function isConditionFailure(error: unknown): error is ConditionalCheckFailedException {
  return (
    error instanceof ConditionalCheckFailedException ||
    (error as Error)?.name === 'ConditionalCheckFailedException'
  );
}

function updateOf(
  tableName: string,
  item: PendingItem,
  watermark: string,
  deltas: AttributeDeltas,
  range: { min: string; max: string },
  observed: string | undefined,
): UpdateItemCommand {
  const names: Record<string, string> = { '#wm': watermark };
  const values: Record<string, AttributeValue> = { ':max': { S: range.max } };
  const additions: string[] = [];
  for (const [attribute, amount] of deltas) {
    const index = additions.length;
    names[`#a${index}`] = attribute;
    values[`:v${index}`] = { N: amount.toString() };
    additions.push(`#a${index} :v${index}`);
  }
  let condition: string;
  if (observed === undefined) {
    condition = 'attribute_not_exists(#wm) OR #wm < :min';
    values[':min'] = { S: range.min };
  } else {
    condition = '#wm = :observed';
    values[':observed'] = { S: observed };
  }
  return new UpdateItemCommand({
    TableName: tableName,
    Key: { pk: { S: item.key.pk }, sk: { S: item.key.sk } },
    UpdateExpression: `${additions.length > 0 ? `ADD ${additions.join(', ')} ` : ''}SET #wm = :max`,
    ConditionExpression: condition,
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: values,
    ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    ReturnConsumedCapacity: 'TOTAL',
  });
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
): Promise<ItemWriteResult> {
  const watermark = watermarkAttribute(shardId);
  let observed: string | undefined; // the item's watermark, once we know it
  let requests = 0;
  let capacityUnits = 0;
  for (;;) {
    const range = sequenceRange(item, observed);
    if (range === null) return { item, applied: new Map(), requests, capacityUnits };
    const deltas = sumContributions(item, observed);
    try {
      requests++;
      const output = await withRetry(
        (abortSignal) =>
          dynamodb.send(updateOf(tableName, item, watermark, deltas, range, observed), { abortSignal }),
        retry,
      );
      capacityUnits += output.ConsumedCapacity?.CapacityUnits ?? 0;
      return { item, applied: deltas, requests, capacityUnits };
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      // A failed condition is charged like a write; its capacity is not reported.
      const current = error.Item?.[watermark]?.S;
      if (current === undefined) {
        // The condition can only fail on an item that has this watermark;
        // without the old image we cannot tell what was applied: fail the batch.
        throw new Error(`condition failed on ${item.key.pk}/${item.key.sk} but no watermark was returned`);
      }
      observed = current;
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
): Promise<ItemWriteResult[]> {
  const results: ItemWriteResult[] = [];
  const failures: unknown[] = [];
  let next = 0;
  async function worker(): Promise<void> {
    while (next < items.length && failures.length === 0) {
      const item = items[next++] as PendingItem;
      try {
        results.push(await applyPendingItem(tableName, shardId, item, retry));
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
